/**
 * Regions (src/backends/soft/region.ts, block-compile.ts compileRegion; off by default, on here):
 * hot blocks of one page that branch to each other run as one function. The soft-region guest (guests/soft-region.S)
 * runs with blocks compiled after 4 runs, under several run slices (a slice ends a region
 * between two of its blocks), and one instruction at a time: every exit (memory exits from a
 * region's inner blocks, with the instruction's bytes), register and the TSC must match, the
 * results must be the program's (a model of its loops here), and regions of several blocks must
 * have formed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longModeState } from '../../src/x86/boot-state.js';
import { RUN_SLICE, setRunSlice } from '../../src/backends/soft/run.js';
import { HOT_BLOCK_RUNS, setHotBlockRuns } from '../../src/backends/soft/block-compile.js';
import { REGIONS, setRegions } from '../../src/backends/soft/region.js';
import type { SoftVcpu } from '../../src/backends/soft/vcpu.js';
import { load, softVm, trace, type Trace } from './vm.js';

const TABLE = [5, 200, 17, 64, 99, 100, 101, 3, 250, 8, 77, 1000, 2, 31, 150, 66];

/** EAX, EDX (loop 1), R11D (loop 2) and R13D (loop 3) as guests/soft-region.S computes them. */
function model(): number[] {
  let eax = 0, edx = 0, i = 0;
  const t = [...TABLE];
  for (let c = 600; c > 0; c--) {
    const r9 = t[i]!;
    let cf: boolean;
    if (r9 & 1) {
      cf = eax + r9 > 0xffffffff;
      eax = (eax + r9) >>> 0;
    } else {
      edx = (edx - r9) >>> 0;
      cf = r9 < 100;
    }
    if (!cf) edx = (edx + 3) >>> 0;
    t[i] = (eax + r9 + 7) >>> 0;
    i = (i + 1) & 15;
  }
  let r11 = 0;
  for (let c = 12; c > 0; c--) r11 += c <= 6 ? 3 : 1;
  let r13 = 0, imm = 1;
  for (let c = 50; c > 0; c--) {
    if ((c & 7) === 0) imm = c;
    r13 += imm;
  }
  return [eax, edx, r11, r13];
}

/** The guest's run: its trace, and how many of its blocks ran as part of a region. */
function run(hot: number, slice: number): { t: Trace; inRegions: number } {
  const saved = RUN_SLICE, savedHot = HOT_BLOCK_RUNS, savedRegions = REGIONS;
  setHotBlockRuns(hot);
  setRegions(true);
  setRunSlice(slice);
  const vm = softVm();
  try {
    load(vm, 'soft-region', 0x10000);
    // Linear addresses up to 8 MiB map 1:1; GPAs from 4 MiB have no RAM (memory exits).
    const state = longModeState({ ram: vm.ram, ramGpa: 0, tablesGpa: vm.ram.length - 0x10000, mapBytes: 2 * vm.ram.length },
      { entry: 0x10000, stack: 0x80000, cpl: 0, kernelStack: 0x88000 });
    const t = trace(vm, state);
    let inRegions = 0;
    // The frontend Vcpu's backend vCPU (a private field: this test looks inside the soft CPU).
    const soft = (vm.cpu as unknown as { impl: SoftVcpu }).impl;
    for (const page of soft.cpu.codeCache.values()) for (const b of page.blocks.values()) if (b.region !== undefined) inRegions++;
    return { t, inRegions };
  } finally {
    vm.hv.close();
    setRunSlice(saved);
    setHotBlockRuns(savedHot);
    setRegions(savedRegions);
  }
}

const u32 = (s: string): number => s.split(' ').slice(1).reduce((v, b, k) => v + Number(b) * 2 ** (8 * k), 0);

test('regions run the program as one instruction at a time does, under every run slice', () => {
  const slow = run(Infinity, 1);
  const outs = slow.t.exits.filter((e) => e.startsWith('io e9')).map((e) => u32(e.slice(3)));
  const [eax, edx, r11, r13] = model();
  assert.deepEqual([outs[0], outs[1], outs[2], outs[4]], [eax, edx, r11, r13], 'EAX, EDX, R11D, R13D as the model computes them');
  assert.equal(slow.t.exits.filter((e) => e.startsWith('memory')).length, 17, 'loop 2: 8 loads and 9 ADCs past the end of RAM');
  for (const slice of [1 << 16, 1, 5, 13, 64]) {
    const fast = run(4, slice);
    assert.deepEqual(fast.t, slow.t, `slice ${slice}`);
    if (slice !== 1) assert.ok(fast.inRegions >= 6, `slice ${slice}: only ${fast.inRegions} blocks ran in regions`);
  }
});
