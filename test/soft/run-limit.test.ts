/**
 * run({ maxInstructions }) (RunLimit) on the soft backend: the run ends with 'stopped' after
 * exactly that many instructions retired, in every execution tier (one instruction at a time,
 * blocks of closures, compiled blocks), and resuming in pieces ends where one long run does.
 * Bad limits are EINVAL. (KVM raises ENOTSUP: test/kvm, where KVM is present.) A guest whose
 * exceptions loop without retiring an instruction still gives the caller control back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { State, VmmError, type VcpuStopHandle } from '../../src/index.js';
import { realModeState } from '../../src/x86/boot-state.js';
import type { SoftVcpu } from '../../src/backends/soft/vcpu.js';
import { longMode, softVm, tsc, type SoftVm } from './vm.js';

// 64-bit: rcx = 0; loop: add rcx, 1; mov [0x9000], rcx; imul rax, rcx, 3; cmp rcx, 0x7fffffff; jb loop
const LOOP = [0x31, 0xc9, 0x48, 0x83, 0xc1, 0x01, 0x48, 0x89, 0x0c, 0x25, 0x00, 0x90, 0x00, 0x00,
  0x48, 0x6b, 0xc1, 0x03, 0x48, 0x81, 0xf9, 0xff, 0xff, 0xff, 0x7f, 0x72, 0xe7];
const ENTRY = 0x1000;

interface Tier { name: string; interpretOnly: boolean; hotBlockRuns: number }
const TIERS: Tier[] = [
  { name: 'one at a time', interpretOnly: true, hotBlockRuns: Infinity },
  { name: 'blocks of closures', interpretOnly: false, hotBlockRuns: Infinity },
  { name: 'compiled blocks', interpretOnly: false, hotBlockRuns: 2 },
];

function start(tier: Tier): SoftVm {
  const vm = softVm();
  vm.ram.set(LOOP, ENTRY);
  const soft = (vm.cpu as unknown as { impl: SoftVcpu }).impl;
  soft.cpu.interpretOnly = tier.interpretOnly;
  soft.cpu.hotBlockRuns = tier.hotBlockRuns;
  vm.cpu.setState(longMode(vm, ENTRY));
  return vm;
}

test('run({ maxInstructions }) stops after exactly that many instructions, in every tier', () => {
  for (const tier of TIERS) {
    const vm = start(tier);
    try {
      for (const n of [1, 2, 3, 4, 5, 7, 100, 1001, 65535, 65536, 65537, 200_003]) {
        const before = tsc(vm);
        const exit = vm.cpu.run({ maxInstructions: n });
        assert.equal(exit.reason, 'stopped', `${tier.name}: ${n}`);
        assert.equal(tsc(vm) - before, BigInt(n), `${tier.name}: instructions retired by run({ maxInstructions: ${n} })`);
      }
    } finally {
      vm.hv.close();
    }
  }
});

test('a run cut into limited pieces ends in the state one limited run reaches', () => {
  const total = 123_457;
  const states = TIERS.flatMap((tier) => [false, true].map((pieces) => {
    const vm = start(tier);
    try {
      if (pieces) {
        // Pieces of 1 to 9973 instructions, uneven, so they end anywhere in blocks and loop passes.
        for (let left = total, k = 1; left > 0; k = (k * 7) % 9973 + 1) {
          vm.cpu.run({ maxInstructions: Math.min(k, left) });
          left -= Math.min(k, left);
        }
      } else {
        vm.cpu.run({ maxInstructions: total });
      }
      const g = vm.cpu.getState(State.GPRS).gprs!;
      return `${tier.name} ${pieces ? 'in pieces' : 'at once'}: rcx ${g.rcx} rax ${g.rax} rip ${g.rip} tsc ${tsc(vm)} [0x9000] ${vm.ram[0x9000]}`;
    } finally {
      vm.hv.close();
    }
  }));
  // After the XOR each pass is 5 instructions, ADD RCX first: RCX counts the passes begun.
  const want = Math.ceil((total - 1) / 5);
  for (const s of states) assert.match(s, new RegExp(`rcx ${want} `), s);
  assert.equal(new Set(states.map((s) => s.replace(/^.*: /, ''))).size, 1, states.join('\n'));
});

test('bad run limits are EINVAL', () => {
  const vm = start(TIERS[1]!);
  try {
    for (const bad of [{}, { maxInstructions: 0 }, { maxInstructions: -1 }, { maxInstructions: 1.5 }, { maxInstructions: '5' },
      { maxInstructions: Infinity }, { maxInstructions: 5, extra: 1 }, null, 5]) {
      assert.throws(() => vm.cpu.run(bad as never), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL', JSON.stringify(bad));
    }
    assert.equal(tsc(vm), 0n, 'nothing ran');
  } finally {
    vm.hv.close();
  }
});

/** Stops the vCPU after ms from another thread (a run that never returns would block this one); fired[0] = 1 then. */
function safetyStop(stop: VcpuStopHandle, ms: number): { fired: Int32Array; done: () => Promise<number> } {
  const fired = new Int32Array(new SharedArrayBuffer(4));
  const frontend = new URL('../../src/frontend/index.js', import.meta.url).href;
  const worker = new Worker(`
    const { workerData: w } = require('node:worker_threads');
    import(w.frontend).then(({ stopVcpu }) => setTimeout(() => { Atomics.store(w.fired, 0, 1); stopVcpu(w.stop); }, w.ms));`,
  { eval: true, workerData: { stop, ms, fired, frontend } });
  return { fired, done: () => worker.terminate() };
}

/**
 * Real mode, IVT entry 6 (#UD) pointing at an undefined opcode (D6, SALC, which the modelled CPU
 * lacks): every delivery faults again at once and no instruction ever retires, so neither the
 * limit nor guest time would end the run. It ends 'stopped' after 4096 deliveries in a row (each
 * pushed FLAGS, CS and IP), and the next run goes on with the loop. (Found by the random-code
 * fuzz, seed 200196: the run never returned.)
 */
test('an exception loop that retires nothing ends the run with stopped, limit or not, and the next run goes on', async () => {
  const vm = softVm();
  const guard = safetyStop(vm.cpu.stopHandle(), 20_000);
  try {
    vm.ram.set([0x00, 0x05, 0x00, 0x00], 6 * 4); // IVT[6] = 0000:0500
    vm.ram[0x500] = 0xd6;
    // SP 0xfffe: two runs' pushes (48 KiB) stay above the IVT (were it overwritten, the loop would change).
    vm.cpu.setState(realModeState(0, 0x500, 0xfffe));
    for (const limit of [{ maxInstructions: 2000 }, undefined]) {
      const sp = vm.cpu.getState(State.GPRS).gprs!.rsp;
      const exit = limit === undefined ? vm.cpu.run() : vm.cpu.run(limit);
      assert.equal(guard.fired[0], 0, 'the run returned by itself (not by the safety stop after 20 s)');
      assert.equal(exit.reason, 'stopped');
      const g = vm.cpu.getState(State.GPRS).gprs!;
      assert.equal(g.rip, 0x500n);
      assert.equal(sp - g.rsp, 6n * 4096n, '4096 deliveries, 6 bytes pushed each');
      assert.equal(tsc(vm), 0n, 'no instruction retired');
    }
  } finally {
    await guard.done();
    vm.hv.close();
  }
});
