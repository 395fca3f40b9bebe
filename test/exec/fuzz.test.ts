/**
 * Robustness: random byte strings that decode (in 16/32/64-bit modes) are executed with random
 * registers and flags over a small window; execute() may return true/false or throw X86Fault,
 * nothing else, and a declined instruction changes nothing. Seeded; the seed prints on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { execute } from '../../src/x86/exec/index.js';
import { X86Fault } from '../../src/x86/exec/context.js';
import type { Instruction } from '../../src/x86/instruction.js';
import { VmmError } from '../../src/api/errors.js';
import { FlatContext } from './flat-context.js';
import { Rng, testSeed } from './rng.js';

const ROUNDS = Number(process.env.TSVISOR_EXEC_FUZZ ?? 30000);
const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x64, 0x65, 0x48, 0x41, 0x4c, 0x0f];

test('execute() never throws anything but X86Fault on random decodable instructions', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const ctx = new FlatContext(new Uint8Array(0x10000), 0);
  let executed = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const mode = rng.pick([16, 32, 64] as const);
    const bytes = new Uint8Array(15);
    for (let k = 0; k < 15; k++) bytes[k] = rng.int(3) === 0 ? rng.pick(PREFIXES) : rng.int(256);
    let insn: Instruction;
    try {
      insn = decode(bytes, mode);
    } catch (e) {
      assert.ok(e instanceof VmmError, `seed ${seed}: decoder threw ${String(e)}`);
      continue;
    }
    ctx.mode = mode;
    ctx.repBudget = 64;
    ctx.stackSize = mode === 64 ? 8 : mode === 32 ? 4 : 2;
    ctx.cpl = rng.int(2) ? 0 : 3;
    for (let r = 0; r < 34; r++) ctx.regs[r] = rng.int(4) === 0 ? rng.int(0x10000) : (rng.u32() > 0x7fffffffn ? -rng.int(1 << 30) : rng.int(1 << 30));
    ctx.flags = (rng.int(0x10000) & 0x0fd5) | 2;
    ctx.log.length = 0;
    const before = `${ctx.regs.join()}|${ctx.flags}`;
    try {
      const handled = execute(ctx, insn);
      if (!handled) assert.equal(`${ctx.regs.join()}|${ctx.flags}`, before, `seed ${seed}: declined ${insn.mnemonic} changed state`);
      executed++;
    } catch (e) {
      if (!(e instanceof X86Fault)) {
        assert.fail(`seed ${seed}: ${insn.mnemonic} [${Array.from(bytes.subarray(0, insn.length), (b) => b.toString(16).padStart(2, '0')).join(' ')}] mode ${mode} threw ${String(e)}`);
      }
    }
  }
  assert.ok(executed > ROUNDS / 10, `only ${executed} of ${ROUNDS} decoded`);
});
