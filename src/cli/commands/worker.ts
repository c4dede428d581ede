/** `composure worker`: the worker, as `node dist/worker/main.js` runs it. */
import { runWorker } from '../../../worker/main';

export async function workerCommand(): Promise<number> {
  await runWorker();
  return 0;
}
