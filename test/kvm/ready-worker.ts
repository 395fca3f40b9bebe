/**
 * Starting a helper worker that will stop a vCPU blocked in run() on this thread. 'online' is not
 * enough before blocking: it fires when the worker starts, before its modules (src/index.js, koffi)
 * are loaded; a load that then fails (a dist/ being rebuilt, a missing binding) leaves nobody to
 * stop the guest, and the test thread spins in it forever. The worker posts 'ready' once its
 * modules are loaded and its listener is in place; this waits for that, and rejects when the
 * worker fails or exits first.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export const READY = 'ready';

export function startReadyWorker(what: URL | string, options?: WorkerOptions): Promise<Worker> {
  const worker = new Worker(what, options);
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      cleanup();
      void worker.terminate();
      reject(new Error(`helper worker did not get ready: ${why}`));
    };
    const onMessage = (m: unknown): void => {
      if (m !== READY) return fail(`its first message was ${JSON.stringify(m)}`);
      cleanup();
      resolve(worker);
    };
    const onError = (e: Error): void => fail(e.message);
    const onExit = (code: number): void => fail(`it exited with code ${code}`);
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
