/**
 * One transport per host, reused across activities (one SSH connection per
 * host), created on first use from the host's configuration. The worker owns
 * the pool and closes it on shutdown.
 */
import type { HostConfig } from '../config/types';
import { transportForHost, type ResolveOptions } from './from-config';
import type { Transport } from './types';

export class TransportPool {
  private readonly transports = new Map<string, Transport>();
  private fallbackTransport: Transport | undefined;

  constructor(
    private readonly options: ResolveOptions,
    /** The host used when an activity names none (e.g. inspectHostWorkflow without a host). */
    private readonly fallback: () => Transport,
  ) {}

  get(host?: HostConfig): Transport {
    if (!host) return (this.fallbackTransport ??= this.fallback());
    const key = host.kind === 'local' ? 'local' : `${host.user}@${host.host}:${host.port}`;
    let transport = this.transports.get(key);
    if (!transport) {
      transport = transportForHost(host, this.options);
      this.transports.set(key, transport);
    }
    return transport;
  }

  async close(): Promise<void> {
    const all = [...this.transports.values(), ...(this.fallbackTransport ? [this.fallbackTransport] : [])];
    this.transports.clear();
    this.fallbackTransport = undefined;
    await Promise.all(all.map((t) => t.close()));
  }
}
