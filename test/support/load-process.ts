/**
 * The load generator's own process (forked by load.ts): it runs the engine and answers the
 * parent's messages, so that the test's event loop (which may host a Temporal worker) never
 * delays a request the test measures.
 */
import { startLoadInProcess, type LoadOptions, type RunningLoad } from './load-engine';

export type ToLoad = { kind: 'start'; options: LoadOptions } | { kind: 'steady'; ms: number } | { kind: 'stop' };
export type FromLoad = { kind: 'started' } | { kind: 'steady' } | { kind: 'report'; report: import('./load-engine').LoadReport } | { kind: 'error'; message: string };

const send = (message: FromLoad): void => {
  process.send?.(message);
};

let load: RunningLoad | undefined;
process.on('message', (message: ToLoad) => {
  try {
    switch (message.kind) {
      case 'start':
        load = startLoadInProcess(message.options);
        send({ kind: 'started' });
        void load.done.then((report) => {
          send({ kind: 'report', report });
          process.disconnect();
        });
        return;
      case 'steady':
        void load?.steady(message.ms).then(() => send({ kind: 'steady' }));
        return;
      case 'stop':
        void load?.stop();
        return;
    }
  } catch (err) {
    send({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    process.disconnect();
  }
});
