/**
 * Robustness: random instruction bytes through assistMem/assistIo, and random page-table contents
 * through the walker, never let anything but VmmError escape (and never hang). Seeded; the seed
 * is in the test name (TSVISOR_SEED overrides it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IoExit, MemoryExit } from '../../src/api/types.js';
import { VmmError } from '../../src/api/errors.js';
import { assistIo, assistMem } from '../../src/x86/assist/index.js';
import { walk, physMemoryOfBytes, ACCESS_SET_AD, type PagingRegs } from '../../src/x86/mmu/index.js';
import { longModeCpu, realModeCpu } from './fake-cpu.js';
import { Rng, edgyValue } from './seeded.js';

const SEED = process.env.TSVISOR_SEED ? Number(process.env.TSVISOR_SEED) : 0xf0221;
const exitState = { rflags: 2n, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false };
/** Opcodes that touch memory, so most cases get past the decoder into the executor. */
const HOT = [0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x38, 0x39,
  0x80, 0x81, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
  0xaa, 0xab, 0xac, 0xad, 0xc6, 0xc7, 0xf6, 0xf7, 0xfe, 0xff, 0x6c, 0x6d, 0x6e, 0x6f];

function randomInsn(rng: Rng): Uint8Array {
  const b: number[] = [];
  while (rng.below(3) === 0) b.push(rng.pick([0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x48, 0x41, 0x4c]));
  if (rng.below(4) === 0) b.push(0x0f);
  b.push(rng.below(2) ? rng.pick(HOT) : rng.below(256));
  const tail = rng.bytes(rng.below(12));
  return new Uint8Array([...b, ...tail].slice(0, 15));
}

test(`assistMem/assistIo on random bytes and registers throw only VmmError (seed ${SEED})`, () => {
  const rng = new Rng(SEED);
  let emulated = 0;
  const cpus = [longModeCpu(0), longModeCpu(3), longModeCpu(0), realModeCpu()];
  for (let i = 0; i < 3000; i++) {
    const cpu = cpus[i % 4]!;
    for (const r of ['rax', 'rcx', 'rdx', 'rbx', 'rsi', 'rdi', 'rbp', 'r8'] as const) cpu.gprs[r] = edgyValue(rng);
    cpu.gprs.rflags = 2n | BigInt(rng.u32n() & 0xcd5);
    const bytes = randomInsn(rng);
    cpu.code(0x1000, Array.from(bytes));
    const mem: MemoryExit = { reason: 'memory', gpa: 0x200000 + rng.below(0x1000), write: rng.below(2) === 1, size: 1 << rng.below(4), prot: 'r', instBytes: rng.below(2) ? bytes : new Uint8Array(0), exitState };
    const io: IoExit = { reason: 'io', port: rng.below(0x10000), in: rng.below(2) === 1, size: rng.pick([1, 2, 4]), data: new Uint8Array(4), rep: rng.below(2) === 1, str: rng.below(2) === 1, npc: BigInt(0x1000 + bytes.length), exitState };
    for (const run of [() => assistMem(cpu, mem, (r) => r.data.fill(0x5a)), () => assistIo(cpu, io, (r) => r.data.fill(0xa5))]) {
      try {
        run();
        emulated++;
      } catch (e) {
        if (!(e instanceof VmmError)) assert.fail(`case ${i} (${Array.from(bytes, (x) => x.toString(16)).join(' ')}): ${(e as Error).stack}`);
      }
    }
  }
  assert.ok(emulated > 500, `only ${emulated} cases got through (the generator should hit emulated forms)`);
});

test(`the walker never throws on random page tables and control registers (seed ${SEED})`, () => {
  const rng = new Rng(SEED + 1);
  const bytes = rng.bytes(0x8000);
  const mem = physMemoryOfBytes(bytes);
  for (let i = 0; i < 20000; i++) {
    // Point tables mostly inside the 32 KiB of random "RAM" so walks go several levels deep.
    if (i % 64 === 0) for (let j = 0; j < 0x8000; j += 8) bytes[j + 1] = bytes[j + 1]! & 0x7f, bytes[j + 4] = rng.below(4) ? 0 : bytes[j + 4]!;
    const r: PagingRegs = {
      cr0: (rng.below(4) ? 1 << 31 : 0) | (rng.u32n() & 0x10000), cr3Lo: rng.below(8) * 0x1000, cr3Hi: rng.below(8) ? 0 : rng.u32n(),
      cr4: rng.u32n() & 0x301030, efer: rng.u32n() & 0xd00, rflags: rng.u32n() & 0x40000, maxPhyAddr: rng.pick([36, 39, 40, 46, 52]),
    };
    const res = walk(r, mem, rng.u32n() | 0, rng.u32n(), (rng.u32n() & 0x716) | (rng.below(4) ? 0 : ACCESS_SET_AD));
    if (res.ok) assert.ok(Number.isSafeInteger(res.gpa) && res.gpa >= 0, `gpa ${res.gpa}`);
    else assert.ok(res.vector === 13 || res.vector === 14);
  }
});
