/**
 * A TCP proxy inside the test process, on 127.0.0.1, for the fault a real
 * network has and a killed process does not: a link that goes dead without a
 * word. `blackhole()` stops all forwarding in both directions without closing
 * or resetting any socket, so each peer just stops hearing from the other (no
 * FIN, no RST, no error), as when a router between them dies. `resume()` heals
 * the link. What was held back is then delivered in order, as TCP would
 * retransmit it, so a connection that survived the outage is not corrupted.
 * The TCP below stays healthy (the kernels still acknowledge each other), so
 * only the application's own liveness checks can notice; a real dead link
 * would also make the kernel give up, but only after many minutes.
 *
 *   const proxy = await startTcpProxy({ host: '127.0.0.1', port: 2222 });
 *   // point the client at 127.0.0.1:proxy.port
 *   proxy.blackhole(); … proxy.resume();
 *   await proxy.close();
 *
 * A connection accepted while blackholed completes its TCP handshake (the
 * kernel does that) but is not dialled through until `resume()`: the client
 * sees a server that never speaks.
 */
import net from 'node:net';

export interface TcpProxy {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Connections accepted so far, blackholed or not (for SSH: one per connection attempt, i.e. per login). */
  readonly connections: number;
  /** Go silent in both directions; sockets stay open. */
  blackhole(): void;
  /** Forward again, first everything held back since `blackhole()`. */
  resume(): void;
  /** Stop listening and destroy every connection through it. */
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  /** Sockets paused because their destination is not draining; they resume on 'drain', not on resume(). */
  const blocked = new Set<net.Socket>();
  /** Everything that would have crossed the link while it was dead, in order: data, FIN, teardown. */
  const held: (() => void)[] = [];
  let silent = false;
  let connections = 0;

  const act = (fn: () => void) => (silent ? held.push(fn) : fn());

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    // Errors are the peers' business; the 'close' that follows tears down the pair.
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      blocked.delete(socket);
    });
    if (silent) socket.pause();
  };

  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) =>
      act(() => {
        if (to.write(chunk)) return;
        from.pause();
        blocked.add(from);
        to.once('drain', () => {
          blocked.delete(from);
          if (!silent) from.resume();
        });
      }),
    );
    from.on('end', () => act(() => to.end()));
    from.on('close', () => act(() => to.destroy()));
  };

  const link = (client: net.Socket) => {
    if (client.destroyed) return;
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    connections++;
    track(client);
    act(() => link(client));
    if (!silent) client.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get connections() {
      return connections;
    },
    blackhole() {
      silent = true;
      for (const socket of sockets) socket.pause();
    },
    resume() {
      silent = false;
      // Held actions first: a link dialled now must have its 'data' listener
      // before its client socket flows.
      for (const fn of held.splice(0)) fn();
      for (const socket of sockets) if (!blocked.has(socket)) socket.resume();
    },
    async close() {
      held.length = 0;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
