/**
 * Worker for test/conformance/stop-stress.test.ts. For each order it waits until the main thread is about to call
 * run() (`go`), then a random moment (a spin of a few microseconds: inside run()'s entry, a longer
 * spin, or a sleep of up to 2 ms: in the guest), stops the vCPU and waits for run() to return; it
 * answers with the number of stops that had to be resent (stop-and-await.ts). Posts 'ready' once
 * its modules are loaded (ready-worker.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { VcpuStopHandle } from '../../src/index.js';
import { READY } from './ready-worker.js';
import { stopAndAwait } from './stop-and-await.js';

export interface StressOrder {
  handle: VcpuStopHandle;
  /** 0: at once; 1: spin `amount` microseconds; 2: sleep `amount` microseconds. */
  how: 0 | 1 | 2;
  amount: number;
  /** Int32 [0]: set by this worker when it waits for [1]; [1]: set by the main thread just before run(). */
  go: SharedArrayBuffer;
  /** Int32 [0]: set to 1 by the main thread when its run() returned. */
  done: SharedArrayBuffer;
}

function pause(how: number, us: number): void {
  if (how === 1) {
    const end = performance.now() + us / 1000;
    while (performance.now() < end) { /* spin: land at an exact point of the main thread's run() */ }
  } else if (how === 2) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, us / 1000);
  }
}

parentPort!.on('message', (order: StressOrder) => {
  const go = new Int32Array(order.go);
  // Spin, not Atomics.wait: waking from a wait takes longer than the entry the stop should hit.
  const giveUp = performance.now() + 5_000;
  Atomics.store(go, 0, 1);
  while (Atomics.load(go, 1) === 0 && performance.now() < giveUp) { /* until run() is called */ }
  pause(order.how, order.amount);
  parentPort!.postMessage(stopAndAwait(order.handle, new Int32Array(order.done)));
});
parentPort!.postMessage(READY);
