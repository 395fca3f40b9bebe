/**
 * Worker for stop.test.ts: receives a vCPU's stop handle, waits delayMs, stops the vCPU from this
 * thread and answers with the number of resent stops (stop-and-await.ts; 0 expected). Posts
 * 'ready' once its modules are loaded (ready-worker.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { VcpuStopHandle } from '../../src/index.js';
import { READY } from './ready-worker.js';
import { stopAndAwait } from './stop-and-await.js';

interface Order { handle: VcpuStopHandle; delayMs: number; done: SharedArrayBuffer }

parentPort!.on('message', (order: Order) => {
  setTimeout(() => parentPort!.postMessage(stopAndAwait(order.handle, new Int32Array(order.done))), order.delayMs);
});
parentPort!.postMessage(READY);
