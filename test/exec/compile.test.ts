/**
 * compile(insn)(ctx) must do exactly what execute(ctx, insn) does: same result, same registers,
 * flags, memory and access log, same fault. Random instructions biased toward the shapes
 * src/x86/exec/specialise.ts specialises (ALU rows, group 1, INC/DEC, MOV, LEA, TEST, Jcc, JMP and
 * CALL rel, PUSH/POP r64, RET, MOVZX/MOVSX/MOVSXD, NOPs) plus random
 * bytes, in all three modes, from random states. Seeded; the seed prints on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { execute } from '../../src/x86/exec/index.js';
import { compile, endsBlock } from '../../src/x86/exec/compile.js';
import type { Instruction } from '../../src/x86/instruction.js';
import { FlatContext } from './flat-context.js';
import { Rng, testSeed } from './rng.js';

const ROUNDS = Number(process.env.TSVISOR_EXEC_FUZZ ?? 20000);
const PREFIXES = [0x66, 0x67, 0xf0, 0x64, 0x48, 0x41, 0x44, 0x4c, 0x49, 0x40];
const OPCODES = [
  0x01, 0x03, 0x05, 0x09, 0x0b, 0x0d, 0x11, 0x13, 0x15, 0x19, 0x1b, 0x1d, 0x21, 0x23, 0x25, 0x29, 0x2b,
  0x2d, 0x31, 0x33, 0x35, 0x39, 0x3b, 0x3d, 0x81, 0x83, 0x40, 0x43, 0x48, 0x4f, 0xff, 0x89, 0x8b,
  0xb8, 0xbb, 0xbf, 0xc7, 0x8d, 0x70, 0x74, 0x75, 0x7c, 0x7f, 0x00, 0x02, 0x85, 0xd1, 0xc1, 0xd3, 0x6b, 0x69, 0xaf,
  0xe8, 0xe9, 0xeb, 0x50, 0x53, 0x55, 0x58, 0x5c, 0x5d,
  // With the 0F escape: MOVZX/MOVSX and the hint NOP; without: RET, MOVSXD, NOP.
  0xb6, 0xb7, 0xbe, 0xbf, 0x1f, 0xc3, 0x63, 0x90,
];
const WINDOW = 0x10000;

function outcome(ctx: FlatContext, run: () => boolean): string {
  let result: string;
  try {
    result = `returned ${run()}`;
  } catch (e) {
    result = `threw ${e instanceof Error ? e.message : String(e)}`;
  }
  return `${result}|${ctx.regs.join()}|${ctx.flags}|${JSON.stringify(ctx.log)}`;
}

function bytesOf(rng: Rng): Uint8Array {
  const b = new Uint8Array(15);
  let n = 0;
  while (n < 3 && rng.int(3) === 0) b[n++] = rng.pick(PREFIXES);
  if (rng.int(8) === 0) b[n++] = 0x0f; // 0F 8x Jcc, 0F AF IMUL and other 0F forms
  b[n++] = rng.pick(OPCODES);
  // ModRM biased toward register forms and simple bases, then SIB/disp/imm bytes.
  b[n++] = rng.int(3) === 0 ? 0xc0 | rng.int(64) : rng.int(256);
  while (n < 15) b[n++] = rng.int(4) === 0 ? rng.int(256) : rng.int(8);
  return b;
}

test('compile(insn)(ctx) behaves exactly as execute(ctx, insn)', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  // Memory of random bytes (values read with their sign bit set as often as clear).
  const image = Uint8Array.from({ length: WINDOW }, () => rng.int(256));
  let compared = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const mode = rng.pick([16, 32, 64] as const);
    const bytes = bytesOf(rng);
    let insn: Instruction;
    try {
      insn = decode(bytes, mode);
    } catch {
      continue;
    }
    const mem = image.slice();
    for (let k = 0; k < 256; k++) mem[rng.int(WINDOW)] = rng.int(256);
    const a = new FlatContext(mem.slice(), 0), b = new FlatContext(mem.slice(), 0);
    const regs = new Int32Array(34);
    // Small register values keep most effective addresses inside the window; some are not.
    for (let r = 0; r < 34; r++) regs[r] = rng.int(4) === 0 ? rng.int(2 ** 31) * (rng.int(2) ? 1 : -1) : rng.int(WINDOW / 2);
    if (mode !== 64) for (let r = 1; r < 34; r += 2) regs[r] = 0;
    const flags = (rng.int(0x10000) & 0x0fd5) | 2;
    const writeFault = rng.int(8) === 0 ? rng.int(WINDOW) : Infinity;
    for (const ctx of [a, b]) {
      ctx.mode = mode;
      ctx.stackSize = mode === 64 ? 8 : mode === 32 ? 4 : 2;
      ctx.cpl = 0;
      ctx.regs.set(regs);
      ctx.flags = flags;
      ctx.writeFaultFrom = writeFault;
    }
    const want = outcome(a, () => execute(a, insn));
    const fn = compile(insn);
    const got = outcome(b, () => fn(b));
    const hex = Array.from(bytes.subarray(0, insn.length), (x) => x.toString(16).padStart(2, '0')).join(' ');
    assert.equal(got, want, `seed ${seed}: ${insn.mnemonic} [${hex}] mode ${mode}`);
    assert.deepEqual(b.mem, a.mem, `seed ${seed}: ${insn.mnemonic} mode ${mode}: memory differs`);
    assert.equal(typeof endsBlock(insn), 'boolean');
    compared++;
  }
  assert.ok(compared > ROUNDS / 4, `seed ${seed}: only ${compared} instructions decoded`);
});

test('compiled near branches at the edges of RIP: carries into the high half and non-canonical targets', () => {
  // CALL, JMP and Jcc forms, forward and backward, from RIPs just below a 4 GiB boundary, at one,
  // and with canonical and non-canonical high halves: the specialised forms must hand exactly
  // these to the handler (or do what it does).
  const forms = [[0xe8, 0xf0, 0xff, 0xff, 0xff], [0xe8, 0x10, 0, 0, 0], [0xe9, 0xf0, 0xff, 0xff, 0xff], [0xe9, 0x10, 0, 0, 0],
    [0xeb, 0x80], [0xeb, 0x7f], [0x74, 0x80], [0x75, 0x7f], [0x0f, 0x84, 0x00, 0x00, 0x00, 0x80], [0x0f, 0x85, 0xff, 0xff, 0xff, 0x7f]];
  let compared = 0;
  for (const bytes of forms) {
    const insn = decode(Uint8Array.from([...bytes, ...new Array(15 - bytes.length).fill(0)]), 64);
    for (const lo of [-1, -2, -3, -5, -6, -7, 0, 1, 0x7fffffff, -0x80000000]) {
      for (const hi of [0, 1, 0x7fff, 0x8000, -1, -0x8000, -0x8001]) {
        for (const zf of [0, 0x40]) {
          const [a, b] = [0, 1].map(() => new FlatContext(new Uint8Array(WINDOW), 0));
          for (const ctx of [a!, b!]) {
            ctx.mode = 64; ctx.stackSize = 8; ctx.cpl = 0;
            ctx.regs[8] = 0x8000; // RSP inside the window
            ctx.regs[32] = lo; ctx.regs[33] = hi;
            ctx.flags = 2 | zf;
          }
          const fn = compile(insn);
          assert.equal(outcome(b!, () => fn(b!)), outcome(a!, () => execute(a!, insn)), `${insn.mnemonic} [${bytes.map((x) => x.toString(16)).join(' ')}] at ${hi}:${lo >>> 0}`);
          assert.deepEqual(b!.mem, a!.mem);
          compared++;
        }
      }
    }
  }
  assert.equal(compared, 10 * 10 * 7 * 2);
});

test('compiled PUSH and POP of every 64-bit register, RSP itself included, inside and at the edges of the stack window', () => {
  let compared = 0;
  for (let n = 0; n < 16; n++) {
    for (const pop of [false, true]) {
      const bytes = [...(n >= 8 ? [0x41] : []), (pop ? 0x58 : 0x50) | (n & 7)];
      const insn = decode(Uint8Array.from([...bytes, ...new Array(15 - bytes.length).fill(0)]), 64);
      // RSP: inside the window, at its ends (the access faults past them), and with a high half.
      for (const [lo, hi] of [[0x8000, 0], [8, 0], [0, 0], [WINDOW - 8, 0], [WINDOW, 0], [0x8000, 1], [0x8000, -1], [0x8000, 0x10000]] as const) {
        const [a, b] = [0, 1].map(() => new FlatContext(Uint8Array.from({ length: WINDOW }, (_, i) => (i * 7) & 0xff), 0));
        for (const ctx of [a!, b!]) {
          ctx.mode = 64; ctx.stackSize = 8; ctx.cpl = 0;
          for (let r = 0; r < 32; r++) ctx.regs[r] = (r * 0x1234567) | 0;
          ctx.regs[8] = lo; ctx.regs[9] = hi;
          ctx.regs[32] = 0x1000;
        }
        const fn = compile(insn);
        assert.equal(outcome(b!, () => fn(b!)), outcome(a!, () => execute(a!, insn)), `${insn.mnemonic} r${n} with RSP ${hi}:${lo}`);
        assert.deepEqual(b!.mem, a!.mem, `${insn.mnemonic} r${n} with RSP ${hi}:${lo}: memory differs`);
        compared++;
      }
    }
  }
  assert.equal(compared, 16 * 2 * 8);
});

test('compiled 64-bit RET: canonical and non-canonical return addresses, stacks at the window\'s edges', () => {
  const insn = decode(Uint8Array.from([0xc3, ...new Array(14).fill(0)]), 64);
  let compared = 0;
  for (const [lo, hi] of [[0x8000, 0], [0, 0], [WINDOW - 8, 0], [WINDOW - 4, 0], [WINDOW, 0], [0x8000, 1], [0x8000, -1]] as const) {
    for (const [tlo, thi] of [[0x1234, 0], [-0x10, -1], [0, 0x8000], [0, -0x8001], [-1, 0x7fff], [0x10, 0xffff]] as const) {
      const [a, b] = [0, 1].map(() => new FlatContext(new Uint8Array(WINDOW), 0));
      for (const ctx of [a!, b!]) {
        ctx.mode = 64; ctx.stackSize = 8; ctx.cpl = 0;
        ctx.regs[8] = lo; ctx.regs[9] = hi;
        ctx.regs[32] = 0x1000;
        if (hi === 0 && lo + 8 <= WINDOW) new DataView(ctx.mem.buffer).setInt32(lo, tlo, true), new DataView(ctx.mem.buffer).setInt32(lo + 4, thi, true);
      }
      const fn = compile(insn);
      assert.equal(outcome(b!, () => fn(b!)), outcome(a!, () => execute(a!, insn)), `ret with RSP ${hi}:${lo} to ${thi}:${tlo}`);
      compared++;
    }
  }
  assert.equal(compared, 7 * 6);
});
