/**
 * The cross-thread wake-ups of a machine with several vCPU threads (--cpus > 1): a kick must stop
 * the vCPU however its own thread re-arms its deadline timer meanwhile, and a device request of an
 * application processor must be answered by a boot vCPU that only serves requests when stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { VcpuStopHandle } from '../../src/index.js';
import { DeadlineTimer } from '../../src/vmm/core/deadline-timer.js';
import { createDeviceMailbox, DeviceMailboxServer } from '../../src/vmm/core/device-mailbox.js';
import { createKickBuffers, VcpuKick } from '../../src/vmm/core/vcpu-kick.js';
import { hostNow } from '../../src/vmm/core/time-base.js';
import { MAILBOX_PORT, type MailboxAskerSetup } from './smp-mailbox-asker.js';

/** A soft stop handle whose flag the test reads (as a soft vCPU's run loop does). */
function stopFlag(): { handle: VcpuStopHandle; flag: Int32Array } {
  const stop = new SharedArrayBuffer(4);
  return { handle: { backend: 'soft', data: { stop } }, flag: new Int32Array(stop) };
}

/** Waits for the stop flag (set without a notify, so polled); gives up after limitMs. */
function waitStopped(flag: Int32Array, limitMs: number): boolean {
  const until = Date.now() + limitMs;
  while (Atomics.load(flag, 0) === 0 && Date.now() < until) Atomics.wait(flag, 0, 0, 0.5);
  return Atomics.exchange(flag, 0, 0) !== 0;
}

test('a kick stops the vCPU even when its own thread re-arms the deadline timer right after', async () => {
  const { handle, flag } = stopFlag();
  const kicks = createKickBuffers();
  const timer = new DeadlineTimer(handle, kicks);
  try {
    const far = hostNow() + 3600e9;
    for (let round = 0; round < 50; round++) {
      // The vCPU loop arms the next device deadline after every exit; another thread's kick
      // (an IPI, a device request) may land just before: both must hold.
      new VcpuKick(kicks).kick();
      timer.arm(far + round);
      assert.ok(waitStopped(flag, 10_000), `round ${round}: the kick was lost (no stop)`);
    }
  } finally {
    await timer.close();
  }
});

test('a kick does not replace the armed deadline: the timer still fires at it afterwards', async () => {
  const { handle, flag } = stopFlag();
  const kicks = createKickBuffers();
  const timer = new DeadlineTimer(handle, kicks);
  try {
    timer.arm(hostNow() + 50e6);
    new VcpuKick(kicks).kick();
    assert.ok(waitStopped(flag, 10_000), 'the kick stopped it');
    // No re-arm by the owner: the deadline armed before the kick still stops the vCPU.
    assert.ok(waitStopped(flag, 10_000), 'the armed deadline stopped it after the kick');
  } finally {
    await timer.close();
  }
});

test('an application processor\'s device requests are all answered by a boot vCPU that serves them only when stopped', async () => {
  const vcpus = 2, requests = 1000;
  const fabric = { mailbox: createDeviceMailbox(vcpus), kick: createKickBuffers() };
  const { handle, flag } = stopFlag();
  const timer = new DeadlineTimer(handle, fabric.kick);
  const server = new DeviceMailboxServer(fabric.mailbox, vcpus);
  const done = new Int32Array(new SharedArrayBuffer(4));
  const setup: MailboxAskerSetup = { mailbox: fabric.mailbox, kick: fabric.kick, requests, done: done.buffer as SharedArrayBuffer };
  const asker = new Worker(new URL('./smp-mailbox-asker.js', import.meta.url), { workerData: setup });
  const failed = new Promise<never>((_, reject) => asker.on('error', reject));
  let served = 0, sum = 0;
  try {
    // The boot vCPU's loop: "runs" the guest (with no device deadline) until stopped, then serves
    // the devices and arms the next deadline, a new one each time (a guest re-programming its timer).
    const until = Date.now() + 30_000;
    while (Atomics.load(done, 0) === 0) {
      // Nothing else stops it: a lost kick leaves the request unanswered (the machine hangs).
      if (!waitStopped(flag, until - Date.now())) break;
      server.serve({
        routeIo: (req) => {
          assert.equal(req.port, MAILBOX_PORT);
          if (req.in) req.data[0] = served & 0xff;
          else sum += req.data[0]!;
          served++;
          return true;
        },
        routeMem: () => false,
        endOfInterrupt: () => {},
      });
      timer.arm(hostNow() + 3600e9 + served);
    }
    assert.equal(Atomics.load(done, 0), 1, `the application processor got ${served} of ${requests * 2} answers`);
    assert.equal(served, requests * 2);
    assert.equal(sum, Array.from({ length: requests }, (_, k) => (2 * k) & 0xff).reduce((a, b) => a + b, 0));
    await Promise.race([failed, new Promise((resolve) => asker.once('exit', resolve))]);
  } finally {
    await asker.terminate();
    await timer.close();
  }
});
