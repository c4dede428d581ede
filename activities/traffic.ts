/**
 * Moving traffic through the proxy. Traefik's Docker provider routes to
 * healthy containers by itself: Composure waits until Traefik's API lists the
 * new containers. nginx resolves upstream names when it loads its config:
 * Composure reloads it (SIGHUP; old workers finish their requests).
 */
import { execInContainer, signalContainer } from '../src/commands/docker';
import { httpGet } from '../src/commands/http';
import { TrafficSwitchError } from '../src/deploy/errors';
import type { DeployTarget } from '../src/deploy/types';
import { containersOf, inspect } from './containers';
import { beat, hostOf, pause, type TransportFor } from './host';

const TRAEFIK_API_PORT = 8080;
const TRAEFIK_WAIT_MS = 30_000;

export function createTrafficActivities(transportFor: TransportFor) {
  return {
    /**
     * Makes the proxy send traffic to `ids` (the containers that should now
     * serve, beside any that still run). Returns a note for the status when
     * something was only approximated.
     */
    async switchTraffic(target: DeployTarget, service: string, ids: string[]): Promise<{ note?: string }> {
      const { proxy } = target;
      if (proxy.switch.kind === 'none' || !proxy.service || service === proxy.service) return {};
      const host = hostOf(transportFor, target);
      const proxies = await containersOf(host, target.projectName, proxy.service);
      if (proxies.length === 0) throw new TrafficSwitchError(`no running ${proxy.service} container in ${target.projectName}`);
      switch (proxy.switch.kind) {
        case 'nginx':
          for (const id of proxies) await host.apply(signalContainer(id, 'HUP'));
          // Reload is asynchronous in nginx; new workers take over within milliseconds.
          await pause(300);
          return {};
        case 'command':
          for (const id of proxies) await host.apply(execInContainer(id, proxy.switch.command), { timeoutMs: 60_000 });
          return {};
        case 'traefik': {
          const proxyIps = (await inspect(host, proxies)).flatMap((c) => c.ips);
          const wanted = (await inspect(host, ids)).flatMap((c) => c.ips);
          const deadline = Date.now() + TRAEFIK_WAIT_MS;
          let lastError = '';
          while (Date.now() < deadline) {
            for (const ip of proxyIps) {
              const result = await host.exec(httpGet(`http://${ip}:${TRAEFIK_API_PORT}/api/http/services`));
              if (result.code !== 0) {
                lastError = result.stderr.trim();
                continue;
              }
              const routed = result.stdout;
              const missing = wanted.filter((w) => !routed.includes(`//${w}:`));
              if (missing.length === 0) return {};
              beat(`waiting for Traefik to route to ${missing.join(', ')}`);
            }
            await pause(250);
          }
          if (lastError) {
            // No API to ask: Traefik still routes by health; give its provider a moment.
            await pause(3_000);
            return { note: `Traefik's API was not reachable (${lastError.slice(0, 200)}); waited 3s instead of confirming the route. Enable --api.insecure (internal network only) so Composure can confirm.` };
          }
          throw new TrafficSwitchError(`Traefik did not route to ${wanted.join(', ')} within ${TRAEFIK_WAIT_MS / 1000}s`);
        }
      }
    },
  };
}
