/**
 * Worker for the KVM fuzz test: for each { handle, ms, done } it receives, it stops the vCPU
 * (stopVcpu, resent while unanswered: stop-and-await.ts) if `done` is not set within ms, so a
 * random guest spinning without exits cannot hang the suite. It answers 'stopped' or 'done'.
 * Posts 'ready' once its modules are loaded (ready-worker.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { VcpuStopHandle } from '../../src/index.js';
import { READY } from './ready-worker.js';
import { stopAndAwait } from './stop-and-await.js';

interface Order { handle: VcpuStopHandle; ms: number; done: SharedArrayBuffer }

parentPort!.on('message', (order: Order) => {
  const done = new Int32Array(order.done);
  if (Atomics.wait(done, 0, 0, order.ms) !== 'timed-out') {
    parentPort!.postMessage('done');
    return;
  }
  stopAndAwait(order.handle, done);
  parentPort!.postMessage('stopped');
});
parentPort!.postMessage(READY);
