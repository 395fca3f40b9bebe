/**
 * The soft CPU's data-memory path (cpu.ts readLin/writeLin over the TLB's one-compare probe,
 * tlb.ts): every size at aligned, unaligned and page-crossing offsets reads and writes the same
 * bytes as a byte-by-byte reference, across two linear pages that 32-bit paging maps to
 * non-adjacent physical pages; the probe keeps supervisor and user rights apart, grants writes
 * only after a write walk (dirty bit), never for read-only RAM, and a remap between runs is seen.
 * Seeded (TSVISOR_SEED replays).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SoftCpu } from '../../src/backends/soft/cpu.js';
import { PhysMemory } from '../../src/backends/soft/memory.js';
import { MemoryExitSignal } from '../../src/backends/soft/signals.js';
import { TLB_MASK } from '../../src/backends/soft/tlb.js';
import { CR0_PE, CR0_PG, CR0_WP } from '../../src/backends/soft/state.js';
import { X86Fault } from '../../src/x86/exec/context.js';
import { Rng, testSeed } from '../exec/rng.js';

const PD = 0x1000, PT = 0x2000;
/** Linear pages 0x5000 and 0x6000 map to physical 0x9000 and 0x3000 (crossing goes backwards). */
const LIN = 0x5000, PHYS = [0x9000, 0x3000];
const SUPER_ONLY = 0x7000, READ_ONLY = 0x8000; // linear pages: U=0 (phys 0xa000), R/W=0 (phys 0xb000)
const ROM = 0x20000;

function machine(): { cpu: SoftCpu; ram: Uint8Array; phys: PhysMemory; pte: DataView } {
  const phys = new PhysMemory();
  const ram = new Uint8Array(new SharedArrayBuffer(0x10000));
  const rom = new Uint8Array(new SharedArrayBuffer(0x1000));
  phys.map(0, { bytes: ram, size: ram.length }, 0, ram.length, 'rwx');
  phys.map(ROM, { bytes: rom, size: rom.length }, 0, rom.length, 'rx');
  const pte = new DataView(ram.buffer);
  pte.setUint32(PD, PT | 7, true);
  for (let p = 0; p < 16; p++) pte.setUint32(PT + p * 4, (p * 0x1000) | 7, true); // identity, user, writable
  pte.setUint32(PT + (LIN >> 12) * 4, PHYS[0]! | 7, true);
  pte.setUint32(PT + ((LIN >> 12) + 1) * 4, PHYS[1]! | 7, true);
  pte.setUint32(PT + (SUPER_ONLY >> 12) * 4, 0xa000 | 3, true);
  pte.setUint32(PT + (READ_ONLY >> 12) * 4, 0xb000 | 5, true);
  pte.setUint32(PT + 0x20 * 4, ROM | 7, true); // linear 0x20000: the ROM
  const cpu = new SoftCpu(phys);
  cpu.cr3 = PD;
  cpu.cr0 = CR0_PE | CR0_PG | CR0_WP;
  cpu.flushTlb();
  return { cpu, ram, phys, pte };
}

/** The physical byte behind linear LIN + k (k in [0, 0x2000)). */
const physOf = (k: number): number => PHYS[k >> 12]! + (k & 0xfff);

test('soft memory path: every size at aligned, unaligned and page-crossing offsets matches byte-wise access', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const { cpu, ram } = machine();
  for (let k = 0; k < 0x2000; k++) ram[physOf(k)] = rng.int(256);
  for (let n = 0; n < 4000; n++) {
    const size = rng.pick([1, 2, 4, 8] as const);
    // Half the offsets near the page boundary, so crossings and last-word accesses are common.
    const k = rng.int(2) ? 0x1000 - 12 + rng.int(16) : rng.int(0x2000 - size);
    const user = rng.int(2) === 0;
    const where = `seed ${seed} (TSVISOR_SEED=${seed}) step ${n}: size ${size} at linear 0x${(LIN + k).toString(16)} ${user ? 'user' : 'supervisor'}`;
    let lo = 0, hi = 0;
    for (let b = 0; b < size; b++) {
      const v = ram[physOf(k + b)]!;
      if (b < 4) lo += v * 2 ** (8 * b); else hi += v * 2 ** (8 * (b - 4));
    }
    if (rng.int(3) === 0) {
      const nlo = rng.int(2 ** 32), nhi = rng.int(2 ** 32);
      cpu.writeLin(LIN + k, size, nlo | 0, nhi | 0, user);
      for (let b = 0; b < size; b++) {
        const want = b < 4 ? (nlo >>> (8 * b)) & 0xff : (nhi >>> (8 * (b - 4))) & 0xff;
        assert.equal(ram[physOf(k + b)], want, `${where}: byte ${b} after write`);
      }
    } else {
      const got = cpu.readLin(LIN + k, size, user);
      // Sizes 4 and 8 come back as int32 halves, 1 and 2 unsigned.
      assert.equal(got, size >= 4 ? lo | 0 : lo, `${where}: value`);
      if (size === 8) assert.equal(cpu.memHi, hi | 0, `${where}: high half`);
    }
  }
});

test('soft memory path: user and supervisor rights stay apart in the probe', () => {
  const { cpu, ram } = machine();
  ram[0xa000] = 0x5a;
  assert.equal(cpu.readLin(SUPER_ONLY, 4, false), 0x5a); // fills the slot for supervisor reads
  assert.throws(() => cpu.readLin(SUPER_ONLY, 4, true), (e: unknown) => e instanceof X86Fault && e.vector === 14 && e.errorCode === 5);
  assert.equal(cpu.cr2, SUPER_ONLY);
  assert.throws(() => cpu.writeLin(SUPER_ONLY, 4, 1, 0, true), (e: unknown) => e instanceof X86Fault && e.vector === 14 && e.errorCode === 7);
  // Read-only page: readable by both, writable by neither (CR0.WP), after a read filled the slot.
  assert.equal(cpu.readLin(READ_ONLY + 4, 4, true), 0);
  assert.throws(() => cpu.writeLin(READ_ONLY + 4, 4, 1, 0, false), (e: unknown) => e instanceof X86Fault && e.vector === 14 && e.errorCode === 3);
});

test('soft memory path: writes are granted only by a write walk (dirty bit), never to read-only RAM', () => {
  const { cpu, ram, pte } = machine();
  const entry = PT + (LIN >> 12) * 4;
  cpu.readLin(LIN, 4, false);
  assert.equal(pte.getUint32(entry, true) & 0x60, 0x20, 'a read sets A, not D');
  cpu.writeLin(LIN, 4, 0x11223344, 0, false);
  assert.equal(pte.getUint32(entry, true) & 0x60, 0x60, 'the first write sets D');
  assert.equal(new DataView(ram.buffer).getUint32(PHYS[0]!, true), 0x11223344);
  assert.equal(cpu.readLin(ROM, 2, false), 0);
  assert.throws(() => cpu.writeLin(ROM + 2, 2, 0xbeef, 0, false),
    (e: unknown) => e instanceof MemoryExitSignal && e.gpa === ROM + 2 && e.write && e.size === 2);
});

test('soft memory path: a remap between runs is seen although the probe never looks at the map', () => {
  const { cpu, phys } = machine();
  cpu.readLin(ROM, 4, false);
  phys.unmap(ROM, 0x1000);
  cpu.beginRun();
  assert.throws(() => cpu.readLin(ROM, 4, false), (e: unknown) => e instanceof MemoryExitSignal && e.gpa === ROM && !e.write);
});

test('soft memory path: the probe serves the largest RAM buffer; RAM in another goes the slow way with the same bytes', () => {
  const { cpu, ram, phys, pte } = machine();
  const other = new Uint8Array(new SharedArrayBuffer(0x1000));
  phys.map(0x30000, { bytes: other, size: other.length }, 0, other.length, 'rw');
  pte.setUint32(PT + 0x21 * 4, 0x30000 | 7, true); // linear 0x21000: the second buffer
  cpu.beginRun();
  const t = cpu.tlb;
  assert.equal(t.ram8.buffer, ram.buffer, 'the 64 KiB RAM is the main buffer, not the 4 KiB ones');
  for (const size of [1, 2, 4, 8]) {
    cpu.writeLin(0x21000 + 8 * size, size, 0x89abcdef, 0x01234567, false);
    const want = [...Array(size).keys()].map((k) => (k < 4 ? 0x89abcdef >>> (8 * k) : 0x01234567 >>> (8 * (k - 4))) & 0xff);
    assert.deepEqual([...other.subarray(8 * size, 9 * size)], want, `size ${size} written to the second buffer`);
    assert.equal(cpu.readLin(0x21000 + 8 * size, size, false), size === 1 ? 0xef : size === 2 ? 0xcdef : 0x89abcdef | 0);
  }
  const slot = 0x21 & TLB_MASK;
  assert.ok(Number.isNaN(t.readS[slot]!) && Number.isNaN(t.writeS[slot]!), 'no probe tag for a page outside the main buffer');
  cpu.writeLin(0x4000, 4, 0x5a5a5a5a, 0, false);
  assert.equal(t.writeS[4 & TLB_MASK], 0x4000, 'a page of the main buffer is probed');
  assert.equal(new DataView(ram.buffer).getUint32(0x4000, true), 0x5a5a5a5a);
});
