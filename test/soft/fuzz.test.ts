/**
 * Random guest code never crashes or hangs the host: seeded random bytes run in real mode,
 * 32-bit protected mode and 64-bit long mode (CPL0 and CPL3, with and without an IDT) and each
 * run must end in a well-formed exit. An 'invalid' exit is fine for unimplemented instructions
 * but never an internal error. TSVISOR_SEED replays a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { flat32State, longModeState, realModeState } from '../../src/x86/boot-state.js';
import { openSoftBackend } from '../../src/backends/soft/index.js';
import { setRunSlice } from '../../src/backends/soft/run.js';
import type { SoftVcpu } from '../../src/backends/soft/vcpu.js';
import { Rng, testSeed } from '../exec/rng.js';
import { assertExitState } from '../support.js';

const RAM = 2 * 2 ** 20;
const CASES = 100;

test('random code in every mode ends in a well-formed exit, never an internal error', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const backend = openSoftBackend();
  const mem = backend.allocate(RAM);
  setRunSlice(256);
  const reasons = new Map<string, number>();
  try {
    for (let c = 0; c < CASES; c++) {
      const m = backend.createMachine();
      m.map(0, mem, 0, RAM, 'rwx');
      mem.bytes.fill(0);
      const cpu = m.createVcpu(0) as SoftVcpu;
      const kind = rng.int(4);
      const code = 0x10000;
      for (let i = 0; i < 256; i++) mem.bytes[code + i] = rng.int(256);
      const st = kind === 0 ? realModeState(0x1000, 0)
        : kind === 1 ? flat32State(code, 0x80000)
        : longModeState({ ram: mem.bytes, ramGpa: 0, tablesGpa: RAM - 0x10000, mapBytes: RAM },
          { entry: code, stack: 0x80000, cpl: kind === 3 ? 3 : 0 });
      cpu.setState(st, State.ALL);
      if (rng.int(2) === 0) {
        // An IDT whose entries all point at the random code.
        cpu.setState({ segs: { idt: { selector: 0, base: 0x40000n, limit: 0xfff, type: 0, s: 0, dpl: 0, p: 0, avl: 0, l: 0, def: 0, g: 0 } } }, State.SEGS);
        for (let v = 0; v < 256; v++) {
          const at = 0x40000 + v * (kind >= 2 ? 16 : 8);
          mem.bytes.set([0x00, 0x00, 0x08, 0x00, 0x00, 0xee, 0x01, 0x00], at);
        }
      }
      for (let r = 0; r < 5; r++) {
        let exit;
        try {
          exit = cpu.run(2000);
        } catch (e) {
          // Anything escaping run() is a host-side failure: say which case to replay.
          assert.fail(`seed ${seed} (TSVISOR_SEED=${seed}) case ${c} run ${r}: run() threw ${(e as Error).stack ?? String(e)}`);
        }
        assertExitState(exit, `seed ${seed} case ${c}: `);
        reasons.set(exit.reason, (reasons.get(exit.reason) ?? 0) + 1);
        if (exit.reason === 'invalid') {
          assert.doesNotMatch(exit.detail, /internal error/, `seed ${seed} case ${c}: ${exit.detail}`);
          break;
        }
        if (exit.reason === 'shutdown' || exit.reason === 'stopped') break;
        if (exit.reason === 'io' || exit.reason === 'rdmsr' || exit.reason === 'wrmsr' || exit.reason === 'cpuid') {
          // Skip the instruction, as a VMM that ignores the access would.
          cpu.setState({ gprs: { rip: BigInt(exit.npc) } }, State.GPRS);
        } else if (exit.reason === 'memory') {
          break;
        }
      }
      m.destroy();
    }
  } finally {
    setRunSlice(1 << 16);
    backend.close();
  }
  console.log(`# fuzz seed ${seed}: exits ${JSON.stringify([...reasons])}`);
  assert.ok(reasons.size >= 3, `seed ${seed}: exits seen ${JSON.stringify([...reasons])}`);
});
