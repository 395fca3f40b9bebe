/**
 * toyvirt's event thread on its own: it must tick while the vCPU thread is blocked, post the
 * events in turn, skip hardware interrupts once CR8 is 15, stop the vCPU each time, and exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VcpuStopHandle } from '../../src/api/types.js';
import { VmmError } from '../../src/api/errors.js';
import { EventThread } from '../../src/vmm/event-thread.js';
import { RING_SIZE, type EventKind } from '../../src/vmm/event-requests.js';

test('event thread posts #GP, NMI, interrupt in turn, skips interrupts at CR8 15, stops the vCPU, never overruns its ring', async () => {
  // The soft backend's stop handle is a SharedArrayBuffer flag: usable without a machine.
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const handle: VcpuStopHandle = { backend: 'soft', data: { stop: stopFlag.buffer } };
  const events = new EventThread(handle, 40);
  events.waitUntilStarted();
  const next = (): EventKind => {
    if (!events.waiting()) events.waitForNextPost(); // blocks this thread, as the vCPU loop does on 'halted'
    const kind = events.take();
    assert.ok(kind !== undefined);
    return kind;
  };
  try {
    events.noteCr8(0n);
    assert.deepEqual([next(), next(), next()], ['gp', 'nmi', 'interrupt']);
    assert.equal(Atomics.exchange(stopFlag, 0, 0), 1, 'the vCPU was asked to stop');
    events.noteCr8(15n);
    assert.deepEqual([next(), next(), next(), next()], ['gp', 'nmi', 'gp', 'nmi']);
    // A vCPU loop that takes nothing for a while: the ring fills, then ticks are skipped.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40 * (RING_SIZE + 4));
    let queued = 0;
    while (events.take() !== undefined) queued++;
    assert.ok(queued >= 1 && queued <= RING_SIZE, `${queued} requests queued, ring of ${RING_SIZE}`);
    assert.ok(['gp', 'nmi'].includes(next()), 'still ticking after the ring was full');
  } finally {
    await events.close();
  }
});

test('a failing event thread is reported to the vCPU loop as EIO, not a hang', async () => {
  // A stop handle the soft backend rejects: the worker's first stopVcpu throws.
  const events = new EventThread({ backend: 'soft', data: {} }, 20);
  try {
    events.waitUntilStarted();
    assert.throws(() => {
      for (let i = 0; i < 10; i++) events.waitForNextPost();
    }, (e: unknown) => e instanceof VmmError && e.code === 'EIO' && /event thread failed/.test(e.message));
  } finally {
    await events.close();
  }
});
