/**
 * Worker for stop.test.ts: receives a vCPU's stop handle, waits, stops the vCPU from this thread,
 * and, as a guard against a hung suite, ends the process if the main thread's run() has not
 * returned (flag in `done`) within 10 s.
 */
import { parentPort } from 'node:worker_threads';
import { stopVcpu } from '../../src/index.js';
import type { VcpuStopHandle } from '../../src/index.js';

interface Order { handle: VcpuStopHandle; delayMs: number; done: SharedArrayBuffer }

parentPort!.on('message', (order: Order) => {
  setTimeout(() => {
    stopVcpu(order.handle);
    const done = new Int32Array(order.done);
    if (Atomics.wait(done, 0, 0, 10_000) === 'timed-out') {
      console.error('stop-worker: run() did not return within 10 s of stopVcpu(); ending the process');
      process.exit(70);
    }
    parentPort!.postMessage('ok');
  }, order.delayMs);
});
