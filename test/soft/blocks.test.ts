/**
 * Compiled blocks (src/backends/soft/block-compile.ts, successor links in cpu.ts) against the
 * one-instruction-at-a-time path: with a run slice of 1 every block runs one instruction through
 * the plain loop, so each guest runs twice and every exit, register and the TSC (instructions
 * retired) must match. Guests: soft-smc-hot (a hot linked loop patched between passes;
 * memory exits from inside a hot block), soft-syscall (64-bit, CPL changes), soft-bench (the P4
 * compute loop in 32-bit protected mode, with few iterations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State, type VcpuStateInput, type VmExit } from '../../src/index.js';
import { realModeState, resetState } from '../../src/x86/boot-state.js';
import { RUN_SLICE, setRunSlice } from '../../src/backends/soft/run.js';
import { HOT_BLOCK_RUNS, setHotBlockRuns } from '../../src/backends/soft/block-compile.js';
import { guestBinary } from '../support.js';
import { load, longMode, softVm, type SoftVm } from './vm.js';

interface Trace { exits: string[]; gprs: string; tsc: bigint }

/** Runs to OUT 0xf4 (or 0x501), answering memory reads with a counter and I/O with nothing. */
function trace(vm: SoftVm, state: VcpuStateInput): Trace {
  vm.cpu.setState(state);
  const exits: string[] = [];
  let reads = 0;
  for (let n = 0; n < 1000; n++) {
    const e: VmExit = vm.cpu.run();
    if (e.reason === 'memory') {
      exits.push(`memory ${e.gpa.toString(16)} ${e.write} ${e.size} [${Array.from(e.instBytes).join(' ')}]`);
      vm.cpu.assistMem(e, (req) => { if (!req.write) req.data.set([++reads, 0, 0, 0].slice(0, req.size)); });
      continue;
    }
    if (e.reason === 'io') {
      exits.push(`io ${e.port.toString(16)} ${Array.from(e.data).join(' ')}`);
      if (e.port === 0xf4 || e.port === 0x501) break;
      vm.cpu.assistIo(e, () => {});
      continue;
    }
    exits.push(e.reason);
    break;
  }
  const g = vm.cpu.getState(State.GPRS).gprs!;
  return { exits, gprs: JSON.stringify(g, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)), tsc: vm.cpu.getState(State.MSRS).msrs!.tsc! };
}

/**
 * The same guest with blocks compiled (default slice; blocks compiled after 4 runs, so these
 * short guests run compiled code) and one instruction at a time (slice 1).
 */
function both(setup: () => { vm: SoftVm; state: VcpuStateInput }): [Trace, Trace] {
  const saved = RUN_SLICE, savedHot = HOT_BLOCK_RUNS;
  try {
    setHotBlockRuns(4);
    const a = setup();
    const fast = trace(a.vm, a.state);
    a.vm.hv.close();
    setHotBlockRuns(savedHot);
    setRunSlice(1);
    const b = setup();
    const slow = trace(b.vm, b.state);
    b.vm.hv.close();
    return [fast, slow];
  } finally {
    setRunSlice(saved);
    setHotBlockRuns(savedHot);
  }
}

test('hot linked loop patched from another page between passes; memory exits from a hot block', () => {
  const [fast, slow] = both(() => {
    const vm = softVm(0x80000); // GPA 0x90000 (ES:0) has no RAM
    load(vm, 'soft-smc-hot', 0x1000);
    return { vm, state: realModeState(0, 0x1000, 0x8000) };
  });
  assert.deepEqual(fast, slow);
  assert.equal(fast.exits.length, 41);
  assert.equal(fast.exits[0], 'memory 90000 false 4 [38 102 161 0 0]');
  assert.equal(fast.exits[40], 'io f4 84 36', 'EDX = 9300: every patched immediate was seen by the hot loop');
});

test('64-bit SYSCALL/SYSRET guest: compiled blocks match one-at-a-time', () => {
  const [fast, slow] = both(() => {
    const vm = softVm();
    load(vm, 'soft-syscall', 0x10000);
    return { vm, state: longMode(vm, 0x10000) };
  });
  assert.deepEqual(fast, slow);
});

test('P4 compute loop (32-bit protected mode): compiled blocks match one-at-a-time', () => {
  const [fast, slow] = both(() => {
    const vm = softVm();
    const rom = vm.m.allocate(0x10000);
    const bin = guestBinary('soft-bench');
    // The loop count is the imm32 of `mov ecx, 1000000` (B9 40 42 0F 00): 300 passes here.
    const at = bin.findIndex((b, i) => b === 0xb9 && bin[i + 1] === 0x40 && bin[i + 2] === 0x42 && bin[i + 3] === 0x0f);
    assert.ok(at >= 0);
    new DataView(bin.buffer, bin.byteOffset).setUint32(at + 1, 300, true);
    rom.bytes.set(bin);
    vm.m.map(0xffff0000, rom, { prot: 'rx' });
    return { vm, state: resetState() };
  });
  assert.deepEqual(fast, slow);
  assert.ok(fast.tsc > 3000n);
});
