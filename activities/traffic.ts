/**
 * Moving traffic through the proxy. Traefik's Docker provider routes to
 * healthy containers by itself: Composure waits until Traefik's API lists the
 * new containers. nginx resolves upstream names when it loads its config:
 * Composure reloads it (SIGHUP; old workers finish their requests).
 */
import { execInContainer, signalContainer, stopThenSignal } from '../src/commands/docker';
import { httpGet } from '../src/commands/http';
import { TrafficSwitchError } from '../src/deploy/errors';
import type { DeployTarget } from '../src/deploy/types';
import { containersOf, inspect, stopAndRemoveOn } from './containers';
import { beat, hostOf, pause, type Host, type TransportFor } from './host';

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
      if (!routedByProxy(target, service)) return {};
      const host = hostOf(transportFor, target);
      return moveTraffic(host, target, ids, await proxiesOf(host, target));
    },

    /**
     * Retires the old containers once the new ones serve: stops them gracefully, removes them
     * and makes the proxy forget them. For nginx the reload is part of the stop's own command
     * (stopThenSignal): between the old containers leaving Docker's DNS and a reload done a
     * step later, nginx would send requests to addresses nobody answers any more, and each
     * would wait out its proxy_connect_timeout.
     */
    async retireOld(target: DeployTarget, service: string, oldIds: string[], newIds: string[], graceMs: number): Promise<{ note?: string }> {
      const host = hostOf(transportFor, target);
      const routed = routedByProxy(target, service);
      const proxies = routed ? await proxiesOf(host, target) : [];
      if (routed && target.proxy.switch.kind === 'nginx') {
        const stopped = await stopAndRemoveOn(host, oldIds, graceMs, (present, graceSeconds) => stopThenSignal(present, graceSeconds, proxies, 'HUP'));
        if (stopped.length > 0) {
          // Reload is asynchronous in nginx; new workers take over within milliseconds.
          await pause(300);
          return {};
        }
      } else {
        await stopAndRemoveOn(host, oldIds, graceMs);
      }
      return routed ? moveTraffic(host, target, newIds, proxies) : {};
    },
  };
}

function routedByProxy(target: DeployTarget, service: string): boolean {
  const { proxy } = target;
  return proxy.switch.kind !== 'none' && proxy.service !== undefined && service !== proxy.service;
}

async function proxiesOf(host: Host, target: DeployTarget): Promise<string[]> {
  const proxies = await containersOf(host, target.projectName, target.proxy.service!);
  if (proxies.length === 0) throw new TrafficSwitchError(`no running ${target.proxy.service} container in ${target.projectName}`);
  return proxies;
}

/** Makes the proxy send traffic to `ids` (beside any that still run). */
async function moveTraffic(host: Host, target: DeployTarget, ids: string[], proxies: string[]): Promise<{ note?: string }> {
  const { proxy } = target;
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
  return {};
}
