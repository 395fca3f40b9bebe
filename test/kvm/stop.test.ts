/**
 * stop(): from another thread (a worker with the vCPU's stop handle) while the main thread is
 * blocked in run() on a CPL3 guest that spins forever; and from the same thread before run().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { State } from '../../src/index.js';
import { skipUnlessKvm } from '../support.js';
import { LOAD, longGuest } from './kvm-guest.js';
import { startReadyWorker } from './ready-worker.js';

const skip = skipUnlessKvm();

test('stop() from another thread kicks the vCPU out of a guest spinning at CPL3, twice', { skip }, async () => {
  const g = longGuest('kvm-spin', { cpl: 3 });
  // Not just 'online': its modules must have loaded, or nobody would stop the run() below.
  const worker = await startReadyWorker(new URL('./stop-worker.js', import.meta.url));
  try {
    for (let round = 0; round < 2; round++) {
      const done = new SharedArrayBuffer(4);
      worker.postMessage({ handle: g.cpu.stopHandle(), delayMs: 100, done });
      const t0 = Date.now();
      const e = g.cpu.run(); // blocks this thread until the worker's stop
      Atomics.store(new Int32Array(done), 0, 1);
      Atomics.notify(new Int32Array(done), 0);
      assert.equal(e.reason, 'stopped');
      assert.ok(Date.now() - t0 >= 50, 'run() really blocked in the guest first');
      assert.equal(g.cpu.getState(State.GPRS).gprs!.rip, BigInt(LOAD), 'the guest is still in its loop');
      const [resent] = (await once(worker, 'message')) as [number];
      assert.equal(resent, 0, 'the first stop was enough (none resent after 2 s)');
    }
  } finally {
    await worker.terminate();
    g.done();
  }
});

test('stop() before run() makes that run() return stopped; the next one runs the guest', { skip }, () => {
  const g = longGuest('kvm-outloop', { cpl: 3 });
  try {
    g.cpu.stop();
    assert.equal(g.cpu.run().reason, 'stopped');
    assert.equal(g.cpu.run().reason, 'io');
  } finally {
    g.done();
  }
});
