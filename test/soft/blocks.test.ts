/**
 * Compiled blocks (src/backends/soft/block-compile.ts, successor links in cpu.ts) against the
 * one-instruction-at-a-time path: with a run slice of 1 every block runs one instruction through
 * the plain loop, so each guest runs twice and every exit, register and the TSC (instructions
 * retired) must match. Guests: soft-smc-hot (a hot linked loop patched between passes;
 * memory exits from inside a hot block), soft-smc-inline (a hot 64-bit block whose inlined
 * store patches the instruction after it), soft-syscall (64-bit, CPL changes), soft-bench (the P4
 * compute loop in 32-bit protected mode, with few iterations).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VcpuStateInput } from '../../src/index.js';
import { longModeState, realModeState, resetState } from '../../src/x86/boot-state.js';
import { RUN_SLICE, setRunSlice } from '../../src/backends/soft/run.js';
import { HOT_BLOCK_RUNS, setHotBlockRuns } from '../../src/backends/soft/block-compile.js';
import { guestBinary } from '../support.js';
import { load, longMode, setGate64, softVm, trace, type SoftVm, type Trace } from './vm.js';

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

/** Setup of a guest linked and loaded at 0x10000 that starts in 64-bit long mode. */
function longModeGuest(name: string): () => { vm: SoftVm; state: VcpuStateInput } {
  return () => {
    const vm = softVm();
    load(vm, name, 0x10000);
    return { vm, state: longMode(vm, 0x10000) };
  };
}

test('a hot 64-bit block whose inlined store patches the next instruction sees the patch at once', () => {
  const [fast, slow] = both(longModeGuest('soft-smc-inline'));
  assert.deepEqual(fast, slow);
  // EDX = 4600 (0x11f8): every patched immediate was added by the instruction after the store.
  assert.deepEqual(fast.exits, ['io f4 248 17 0 0']);
});

test('64-bit SYSCALL/SYSRET guest: compiled blocks match one-at-a-time', () => {
  const [fast, slow] = both(longModeGuest('soft-syscall'));
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

test('a string instruction that faults midway in a compiled block keeps the registers it moved', () => {
  // Compiled blocks keep registers in locals (block-compile.ts): a closure that moves registers
  // and then faults (REP STOSB reaching an unmapped page) must not have them overwritten by the
  // block's stale copies. The last pass stores across the end of the mapped 4 MiB: #PF after
  // 0x80 bytes, whose handler reports ECX (0x80 left) and RDI's low half.
  const [fast, slow] = both(() => {
    const vm = softVm();
    const code = [
      0xb0, 0x5a, //                          mov al, 0x5a
      0x48, 0xc7, 0xc6, 0x80, 0x8f, 0x3f, 0x00, // mov rsi, 0x3f8f80 (4 MiB - 7 pages - 0x80)
      0xbb, 0x08, 0x00, 0x00, 0x00, //        mov ebx, 8
      0xb9, 0x00, 0x01, 0x00, 0x00, //        loop: mov ecx, 0x100
      0x48, 0x89, 0xf7, //                    mov rdi, rsi
      0xf3, 0xaa, //                          rep stosb
      0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, // add rsi, 0x1000
      0xff, 0xcb, //                          dec ebx
      0x75, 0xeb, //                          jnz loop
      0xe6, 0xf4, //                          out 0xf4, al
    ];
    vm.ram.set(code, 0x10000);
    // #PF handler: out 0xe9, ecx; out 0xe9, edi; out 0xf4
    vm.ram.set([0x89, 0xc8, 0xe7, 0xe9, 0x89, 0xf8, 0xe7, 0xe9, 0xe6, 0xf4], 0x11000);
    setGate64(vm, 0x12000, 14, 0x11000);
    const state = longModeState({ ram: vm.ram, ramGpa: 0, tablesGpa: 0x200000, mapBytes: vm.ram.length },
      { entry: 0x10000, stack: 0x80000, cpl: 0, kernelStack: 0x88000 });
    state.segs = { ...state.segs!, idt: { ...state.segs!.idt!, base: 0x12000n, limit: 0xfff } };
    return { vm, state };
  });
  assert.deepEqual(fast, slow);
  assert.deepEqual(fast.exits, ['io e9 128 0 0 0', 'io e9 0 0 64 0', 'io f4 0'], 'ECX = 0x80 and EDI = 4 MiB at the fault');
});
