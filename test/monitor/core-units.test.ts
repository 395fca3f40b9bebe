/** The monitor core's small pieces: sizes and layout, boot state, host input ring, APIC bus, MSRs, command line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/index.js';
import { bootVcpuState } from '../../src/vmm/core/boot-vcpu.js';
import { ApicBus } from '../../src/vmm/core/apic-bus.js';
import { createHostInput, HostInputReader, HostInputWriter, INPUT_RING_BYTES } from '../../src/vmm/core/host-input.js';
import { BOOT_TABLES_GPA, GIB, MIB, memoryLayout, parseMemorySize, PCI_HOLE_START } from '../../src/vmm/core/memory-layout.js';
import { monitorMsrs } from '../../src/vmm/core/msr-space.js';
import { kernelCmdline } from '../../src/vmm/core/vm-config.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { Lapic } from '../../src/vmm/irq/lapic.js';
import type { LoadPlan } from '../../src/vmm/loader/plan.js';

const einval = (e: unknown): boolean => e instanceof VmmError && e.code === 'EINVAL';

test('memory sizes parse as kvmtool/QEMU write them; layouts split around the PCI hole', () => {
  assert.equal(parseMemorySize('256M'), 256 * MIB);
  assert.equal(parseMemorySize('2G'), 2 * GIB);
  assert.equal(parseMemorySize('512'), 512 * MIB);
  assert.equal(parseMemorySize('1048576K'), GIB);
  for (const bad of ['', 'lots', '1.5G', '-1M', '12Q']) assert.throws(() => parseMemorySize(bad), einval, bad);
  assert.deepEqual(memoryLayout(256 * MIB).ram, [{ gpa: 0, size: 256 * MIB }]);
  assert.deepEqual(memoryLayout(4 * GIB).ram, [{ gpa: 0, size: PCI_HOLE_START }, { gpa: 4 * GIB, size: 4 * GIB - PCI_HOLE_START }]);
  assert.ok(memoryLayout(256 * MIB).map.regions.some((r) => r.type === 'reserved' && r.gpa === 0x9fc00 && r.gpa + r.size === 0x100000));
  for (const bad of [MIB, 64 * 1024 * GIB, 256 * MIB + 1]) assert.throws(() => memoryLayout(bad), einval, String(bad));
});

test('the 64-bit boot state follows the boot protocol: CS 0x10 / DS 0x18 flat, paging on, RSI = boot_params, IF clear', () => {
  const ram = new Uint8Array(16 * MIB);
  const plan = { entry: { mode: '64bit', rip: 0x1000000, rsi: 0x20000 }, identityMapped: [{ start: 0, end: 64 * MIB }] } as unknown as LoadPlan;
  const st = bootVcpuState(plan, ram);
  assert.equal(st.segs!.cs!.selector, 0x10);
  assert.equal(st.segs!.cs!.l, 1);
  for (const s of [st.segs!.ds!, st.segs!.es!, st.segs!.ss!]) assert.equal(s.selector, 0x18);
  assert.equal(st.gprs!.rsi, 0x20000n);
  assert.equal(st.gprs!.rip, 0x1000000n);
  assert.equal(st.gprs!.rflags! & 0x200n, 0n);
  assert.equal(st.crs!.cr3, BigInt(BOOT_TABLES_GPA));
  const gdt = new DataView(ram.buffer, Number(st.segs!.gdt!.base));
  assert.equal(gdt.getBigUint64(0x10, true), 0x00af9b000000ffffn, 'flat 64-bit code at 0x10');
  assert.equal(gdt.getBigUint64(0x18, true), 0x00cf93000000ffffn, 'flat data at 0x18');
  const pvh = bootVcpuState({ entry: { mode: 'pvh', rip: 0x1000123, rbx: 0x30000 }, identityMapped: [] } as unknown as LoadPlan, ram);
  assert.equal(pvh.gprs!.rbx, 0x30000n);
  assert.equal(pvh.crs!.cr0! & 0x80000001n, 1n, 'PVH: protected mode, paging off');
  const above = { entry: { mode: '64bit', rip: 0x1000000, rsi: 0x20000 }, identityMapped: [{ start: 5 * GIB, end: 5 * GIB + MIB }] } as unknown as LoadPlan;
  assert.throws(() => bootVcpuState(above, ram), (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP');
});

test('host input: bytes cross in order, a full ring takes what fits, quit wakes a waiting reader', () => {
  const buffers = createHostInput();
  const w = new HostInputWriter(buffers), r = new HostInputReader(buffers);
  assert.equal(w.write(Uint8Array.of(1, 2, 3)), 3);
  const got: number[] = [];
  r.drain((b) => { got.push(b[0]!); return 1; });
  r.drain((b) => { got.push(...b); return b.length; });
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(w.write(new Uint8Array(INPUT_RING_BYTES + 10)), INPUT_RING_BYTES, 'no overrun: the rest stays with the caller');
  r.drain((b) => b.length);
  assert.equal(r.available, 0);
  w.requestQuit();
  r.wait(10_000); // returns at once
  assert.equal(r.quitRequested, true);
});

function lapic(apicId: number): Lapic {
  return new Lapic({ apicId, bsp: apicId === 0, clock: new ManualClock(), tsc: { hz: 1e9, offset: () => 0n }, onIpi: () => {}, onEoi: () => {} });
}

test('the APIC bus: IOAPIC messages and MSIs reach the addressed LAPIC; a malformed MSI is dropped and counted', () => {
  const bus = new ApicBus();
  const [a, b] = [lapic(0), lapic(1)];
  bus.lapics.push(a, b);
  for (const l of [a, b]) l.write(0xf0, Uint8Array.of(0xff, 0x01, 0, 0)); // SVR: software enable
  bus.fromIoApic({ pin: 4, vector: 0x24, deliveryMode: 'fixed', destinationMode: 'physical', destination: 1, trigger: 'edge' });
  assert.equal(b.pendingVector(), 0x24);
  assert.equal(a.pendingVector(), undefined);
  bus.signal(0xfee00000, 0x41);
  assert.equal(a.pendingVector(), 0x41);
  bus.signal(0x12345000, 0x41);
  assert.equal(bus.droppedMsis, 1);
});

test('monitor MSRs: IA32_MISC_ENABLE reads its default and keeps only writable bits; TSC deadline when offered; others #GP', () => {
  const l = lapic(0);
  l.write(0xf0, Uint8Array.of(0xff, 0x01, 0, 0)); // SVR: software enable
  const msrs = monitorMsrs(l, true);
  assert.equal(msrs.read(0x1a0), 0x1801n);
  assert.equal(msrs.write(0x1a0, 0x1800n), true, 'fast strings off');
  assert.equal(msrs.read(0x1a0), 0x1800n);
  assert.equal(msrs.write(0x1a0, 0x1800n | (1n << 22n)), false, 'a read-only bit');
  assert.equal(msrs.read(0x1b)! & 0xfffff000n, 0xfee00000n);
  assert.equal(msrs.write(0x6e0, 12345n), true);
  assert.equal(msrs.read(0x6e0), 0n, 'ignored outside TSC-deadline mode, as the SDM says');
  const lvt = (2 << 17) | 0xef;
  l.write(0x320, Uint8Array.of(lvt & 0xff, (lvt >> 8) & 0xff, (lvt >> 16) & 0xff, 0)); // LVT timer: TSC-deadline mode
  assert.equal(msrs.write(0x6e0, 12345n), true);
  assert.equal(msrs.read(0x6e0), 12345n);
  assert.equal(monitorMsrs(l, false).read(0x6e0), undefined, 'no TSC deadline where it is not offered');
  assert.equal(msrs.read(0xc0011234), undefined);
});

test('the kernel command line gets panic=-1 unless it sets panic= itself', () => {
  assert.equal(kernelCmdline(undefined), 'console=ttyS0 panic=-1');
  assert.equal(kernelCmdline('console=ttyS0 quiet'), 'console=ttyS0 quiet panic=-1');
  assert.equal(kernelCmdline('console=ttyS0 panic=10'), 'console=ttyS0 panic=10');
});
