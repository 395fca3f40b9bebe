/**
 * How an application processor of a --cpus > 1 machine starts: INIT, then a SIPI, however they
 * are batched and however early they are sent (issue 10: an AP that drained INIT and SIPI together
 * went back to wait for a SIPI that had already come; one whose thread had not yet published its
 * LAPIC lost both).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Hypervisor } from '../../src/index.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { Lapic } from '../../src/vmm/irq/lapic.js';
import type { InterruptMessage } from '../../src/vmm/irq/lapic-message.js';
import { ApicBus } from '../../src/vmm/core/apic-bus.js';
import { RemoteApic } from '../../src/vmm/core/apic-directory.js';
import { awaitSipi, type ApSetup } from '../../src/vmm/core/application-processor.js';
import { DeviceMailboxServer } from '../../src/vmm/core/device-mailbox.js';
import { InterruptInbox } from '../../src/vmm/core/interrupt-inbox.js';
import { createSmpFabric, MachineEndFlag } from '../../src/vmm/core/smp-fabric.js';
import { Doorbell, VcpuKick } from '../../src/vmm/core/vcpu-kick.js';
import { backendSkip } from '../support.js';

const init = (destination: number): InterruptMessage => ({ destination, destMode: 'physical', deliveryMode: 'init', vector: 0, level: true, trigger: 'edge' });
const initDeassert = (destination: number): InterruptMessage => ({ ...init(destination), level: false, trigger: 'level' });
const sipi = (destination: number, vector: number): InterruptMessage => ({ destination, destMode: 'physical', deliveryMode: 'startup', vector, level: true, trigger: 'edge' });

function apLapic(): Lapic {
  return new Lapic({ apicId: 1, bsp: false, clock: new ManualClock(), tsc: { hz: 1e9, offset: () => 0n }, onIpi: () => {}, onEoi: () => {} });
}

/** awaitSipi over batches of messages, one batch per wait; 'ended' once they run out. */
function startWith(batches: InterruptMessage[][]): { vector: number | undefined; initLeft: boolean } {
  const lapic = apLapic();
  let next = 0;
  const vector = awaitSipi(lapic, () => next >= batches.length, () => { for (const m of batches[next++]!) lapic.receive(m); });
  return { vector, initLeft: lapic.takeInit() };
}

test('wait-for-SIPI: INIT and SIPI in one batch start the AP with no INIT left over; a SIPI without INIT, or followed by INIT, does not', () => {
  assert.deepEqual(startWith([[init(1), initDeassert(1), sipi(1, 0x9a), sipi(1, 0x9a)]]), { vector: 0x9a, initLeft: false });
  assert.deepEqual(startWith([[init(1)], [initDeassert(1)], [sipi(1, 0x10)]]), { vector: 0x10, initLeft: false });
  assert.deepEqual(startWith([[sipi(1, 0x10)]]), { vector: undefined, initLeft: false });
  assert.deepEqual(startWith([[init(1), sipi(1, 0x10), init(1)]]), { vector: undefined, initLeft: false });
  assert.deepEqual(startWith([[init(1), sipi(1, 0x10), init(1)], [sipi(1, 0x20)]]), { vector: 0x20, initLeft: false });
});

test('an application processor whose thread has not started yet is addressable: INIT and SIPI wait in its inbox', () => {
  const fabric = createSmpFabric(2);
  const bus = new ApicBus();
  const bsp = new Lapic({ apicId: 0, bsp: true, clock: new ManualClock(), tsc: { hz: 1e9, offset: () => 0n }, onIpi: (r) => bus.ipi(r), onEoi: () => {} });
  bus.lapics.push(bsp, new RemoteApic(fabric.directory, 1, fabric.inboxes[1]!, fabric.kicks[1]!));
  bus.deliver(init(1), bsp);
  bus.deliver(sipi(1, 0x9a), bsp);
  const got: InterruptMessage[] = [];
  new InterruptInbox(fabric.inboxes[1]!).drain((m) => got.push(m));
  assert.deepEqual(got.map((m) => m.deliveryMode), ['init', 'startup']);
});

/** Real mode at 0x9A000 (SIPI vector 0x9A): OUT 0x80, 0x5A, then HLT forever. */
const AP_CODE = [0xb0, 0x5a, 0xe6, 0x80, 0xf4, 0xeb, 0xfd];

test('an application processor thread started with INIT and SIPI already in its inbox runs from the SIPI vector', { skip: backendSkip('soft', 'a shared soft machine') }, async () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  const m = hv.createMachine({ tsc: 'host' });
  const mem = m.allocate(1 << 20);
  m.map(0, mem);
  mem.bytes.set(AP_CODE, 0x9a000);
  const fabric = createSmpFabric(2);
  const inbox = new InterruptInbox(fabric.inboxes[1]!);
  // As Linux sends them (no delay after INIT on a family-6 CPU): all in the inbox before the AP drains any.
  for (const msg of [init(1), initDeassert(1), sipi(1, 0x9a), sipi(1, 0x9a)]) inbox.post(msg);
  const setup: ApSetup = { share: m.share(), id: 1, fabric, tscDeadline: true };
  const ap = new Worker(new URL('../../src/vmm/core/ap-worker.js', import.meta.url), { workerData: setup });
  const end = new MachineEndFlag(fabric.end);
  const server = new DeviceMailboxServer(fabric.mailbox, 2);
  const doorbell = new Doorbell(fabric.kicks[0]!.doorbell);
  const ports: string[] = [];
  try {
    const until = Date.now() + 30_000;
    while (ports.length === 0 && end.failure === undefined && Date.now() < until) {
      doorbell.wait(100, () => server.pending);
      server.serve({
        routeIo: (req) => { ports.push(`${req.in ? 'in' : 'out'} ${req.port.toString(16)} ${req.data[0]!.toString(16)}`); return true; },
        routeMem: () => false,
        endOfInterrupt: () => {},
      });
    }
    assert.equal(end.failure, undefined);
    assert.deepEqual(ports, ['out 80 5a'], 'the AP ran the code at the SIPI vector');
  } finally {
    end.end();
    new VcpuKick(fabric.kicks[1]!).kick();
    await ap.terminate();
    hv.close();
  }
});

test('an application processor thread that fails before it has a vCPU ends the machine with its message (the boot thread sees no worker events)', async () => {
  const fabric = createSmpFabric(2);
  const broken = { share: null, id: 1, fabric, tscDeadline: true };
  const ap = new Worker(new URL('../../src/vmm/core/ap-worker.js', import.meta.url), { workerData: broken });
  ap.on('error', () => {});
  const end = new MachineEndFlag(fabric.end);
  const doorbell = new Doorbell(fabric.kicks[0]!.doorbell);
  try {
    const until = Date.now() + 30_000;
    while (end.failure === undefined && Date.now() < until) doorbell.wait(100, () => end.failure !== undefined);
    assert.match(end.failure ?? 'no failure', /^vCPU 1 thread: /);
  } finally {
    await ap.terminate();
  }
});
