/** Effective-address computation: address sizes, wrapping, RIP-relative, moffs, LEA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveAddress, execute, X86Fault } from '../../src/x86/exec/index.js';
import { encode } from './encode.js';
import { Rng, testSeed } from './rng.js';
import { context, insnOf, step, RAX, RBX, RCX, RSI, RDI, RBP } from './helpers.js';

test('16-bit addressing wraps at 64 KiB and ignores the upper register bits', () => {
  const ctx = context(16);
  ctx.set(RBX, 0x12340ff0n);
  ctx.set(RSI, 0xffff0020n);
  // mov ax, [bx+si+0x7ff0]: 0x0ff0 + 0x0020 + 0x7ff0 = 0x9000
  assert.equal(effectiveAddress(ctx, insnOf('8b80f07f', 16)), 0x9000);
  ctx.set(RSI, 0xf020n);
  assert.equal(effectiveAddress(ctx, insnOf('8b80f07f', 16)), (0x0ff0 + 0xf020 + 0x7ff0) & 0xffff);
  // [bp-2] with bp = 1: wraps to 0xffff
  ctx.set(RBP, 1n);
  assert.equal(effectiveAddress(ctx, insnOf('8b46fe', 16)), 0xffff);
});

test('32-bit addressing wraps at 4 GiB (also with the 67 prefix in 64-bit mode)', () => {
  const ctx = context(32);
  ctx.set(RAX, 0xfffffff0n);
  assert.equal(effectiveAddress(ctx, insnOf('8b4020', 32)), 0x10); // mov eax, [eax+0x20]
  const c64 = context(64);
  c64.set(RAX, 0x1_fffffff0n);
  assert.equal(effectiveAddress(c64, insnOf('678b4020', 64)), 0x10); // addr32: eax only
  assert.equal(effectiveAddress(c64, insnOf('8b4020', 64)), 0x2_00000010);
});

test('64-bit addresses are signed numbers; index * scale and negative displacements carry', () => {
  const ctx = context(64);
  ctx.set(RBX, 0xffff_8000_0000_0000n);
  ctx.set(RCX, 0x10n);
  // mov rax, [rbx + rcx*8 - 8]
  assert.equal(effectiveAddress(ctx, insnOf('488b44cbf8', 64)), -0x8000_0000_0000 + 0x80 - 8);
  ctx.set(RBX, 0n);
  ctx.set(RCX, 0xffff_ffff_ffff_ffffn); // -1 * 8
  assert.equal(effectiveAddress(ctx, insnOf('488b04cb', 64)), -8);
});

test('RIP-relative addressing uses the next instruction\'s RIP', () => {
  const ctx = context(64);
  ctx.rip = 0xffff_ffff_8000_0000n;
  // mov eax, [rip + 0x10]: 6 bytes long
  assert.equal(effectiveAddress(ctx, insnOf('8b0510000000', 64)), -0x8000_0000 + 6 + 0x10);
  ctx.rip = 0x1000n;
  assert.equal(effectiveAddress(ctx, insnOf('8b05f0ffffff', 64)), 0x1000 + 6 - 0x10);
});

test('moffs forms use the full 64-bit offset', () => {
  const ctx = context(64);
  ctx.mem.set([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88], 0x200);
  // mov rax, [0x1200] (moffs64)
  assert.equal(step(ctx, '48a10012000000000000'), true);
  assert.equal(ctx.get(RAX), 0x8877665544332211n);
  // mov [0x1208], al
  assert.equal(step(ctx, 'a20812000000000000'), true);
  assert.equal(ctx.mem[0x208], 0x11);
});

test('LEA gives the exact 64-bit address, truncated or zero-extended to the operand size', () => {
  const ctx = context(64);
  ctx.set(RSI, 0x7fff_ffff_ffff_ff00n);
  ctx.set(RDI, 0x0123_4567_89ab_cdefn);
  step(ctx, '488d843e00010000'); // lea rax, [rsi+rdi+0x100]
  assert.equal(ctx.get(RAX), BigInt.asUintN(64, 0x7fff_ffff_ffff_ff00n + 0x0123_4567_89ab_cdefn + 0x100n));
  ctx.set(RAX, 0xffff_ffff_ffff_ffffn);
  step(ctx, '8d043e'); // lea eax, [rsi+rdi]: low 32 bits, upper zeroed
  assert.equal(ctx.get(RAX), (0xffff_ff00n + 0x89ab_cdefn) & 0xffff_ffffn);
  step(ctx, '66678d043e'); // lea ax, [esi+edi]: only AX changes
  assert.equal(ctx.get(RAX) & 0xffffn, (0xff00n + 0xcdefn) & 0xffffn);
  // The decoder rejects LEA with a register operand; a record that has one raises #UD.
  assert.throws(() => execute(ctx, encode({ opcode: 0x8d, opSize: 8, reg: 0, rm: 1 }).insn),
    (e: unknown) => e instanceof X86Fault && e.vector === 6);
});

test('64-bit addresses from registers and RIP agree with 64-bit arithmetic (seeded)', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  // Near the canonical edges and the 4 GiB carries that the fast path's bounds are about.
  const near = [0n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_f000n, 0xffff_8000_0000_0000n,
    0xffff_ffff_8000_0000n, 0xffff_ffff_ffff_fff0n, 0x0001_0000_0000_0000n, 0xfffe_ffff_ffff_ff00n];
  const value = (): bigint => rng.int(3) === 0 ? rng.u64() : BigInt.asUintN(64, rng.pick(near) + BigInt(rng.int(64) - 32));
  const toSigned = (v: bigint): number => Number(BigInt.asIntN(64, v));
  for (let n = 0; n < 2000; n++) {
    const ctx = context(64);
    const rip = value(), rbx = value(), rcx = value(), disp = (rng.next() * 4294967296) | 0;
    ctx.rip = rip; ctx.set(RBX, rbx); ctx.set(RCX, rcx);
    const d = (disp >>> 0).toString(16).padStart(8, '0').match(/../g)!.reverse().join('');
    // mov eax, [rip + disp] (6 bytes); mov eax, [rbx + rcx*4 + disp]
    const cases: [string, bigint][] = [['8b05' + d, rip + 6n + BigInt(disp)], ['8b848b' + d, rbx + rcx * 4n + BigInt(disp)]];
    for (const [hex, want] of cases) {
      const got = effectiveAddress(ctx, insnOf(hex, 64));
      // An address outside the exactly representable range is only checked to be out of it (non-canonical).
      const exact = toSigned(want);
      if (Math.abs(exact) < 2 ** 53) assert.equal(got, exact, `seed ${seed}: ${hex} rip ${rip.toString(16)} rbx ${rbx.toString(16)} rcx ${rcx.toString(16)}`);
      else assert.ok(Math.abs(got) >= 2 ** 47, `seed ${seed}: ${hex}`);
    }
  }
});
