/**
 * Worker for the KVM fuzz test: for each { handle, ms, done } it receives, it stops the vCPU
 * (stopVcpu) if `done` is not set within ms, so a random guest spinning without exits cannot
 * hang the suite. It answers 'stopped' or 'done'.
 */
import { parentPort } from 'node:worker_threads';
import { stopVcpu } from '../../src/index.js';
import type { VcpuStopHandle } from '../../src/index.js';

interface Order { handle: VcpuStopHandle; ms: number; done: SharedArrayBuffer }

parentPort!.on('message', (order: Order) => {
  const done = new Int32Array(order.done);
  if (Atomics.wait(done, 0, 0, order.ms) !== 'timed-out') {
    parentPort!.postMessage('done');
    return;
  }
  stopVcpu(order.handle);
  if (Atomics.wait(done, 0, 0, 10_000) === 'timed-out') {
    console.error('watchdog-worker: run() did not return within 10 s of stopVcpu(); ending the process');
    process.exit(70);
  }
  parentPort!.postMessage('stopped');
});
