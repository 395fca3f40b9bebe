/** Stack and control transfer: PUSH/POP, CALL/RET, ENTER/LEAVE, PUSHF/POPF, Jcc, LOOP, JrCXZ. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CF, IF, X86Fault, ZF } from '../../src/x86/exec/context.js';
import { BASE, context, snapshot, step, RAX, RBP, RCX, RSP } from './helpers.js';

const TOP = BigInt(BASE + 0x8000);

test('push/pop sizes: 8 by default in 64-bit mode, 2 with 66, immediates sign-extended', () => {
  const ctx = context(64);
  ctx.set(RSP, TOP);
  ctx.set(RAX, 0x1122334455667788n);
  step(ctx, '50'); // push rax
  assert.equal(ctx.get(RSP), TOP - 8n);
  step(ctx, '6a80'); // push -128
  assert.equal(ctx.get(RSP), TOP - 16n);
  step(ctx, '6650'); // push ax
  assert.equal(ctx.get(RSP), TOP - 18n);
  step(ctx, '6659'); // pop cx
  assert.equal(ctx.get(RCX) & 0xffffn, 0x7788n);
  step(ctx, '59'); // pop rcx
  assert.equal(ctx.get(RCX), 0xffffffffffffff80n);
  step(ctx, '415a'); // pop r10
  assert.equal(ctx.get(10), 0x1122334455667788n);
  assert.equal(ctx.get(RSP), TOP);
});

test('push rsp pushes the old value; pop [rsp+8] addresses with the incremented rsp', () => {
  const ctx = context(64);
  ctx.set(RSP, TOP);
  step(ctx, '54');
  assert.equal(ctx.read(2, Number(TOP) - 8, 8) >>> 0, Number(TOP));
  step(ctx, '6a05'); // push 5
  step(ctx, '8f442408'); // pop qword [rsp+8]: rsp is TOP-8 after the pop, so it writes at TOP
  assert.equal(ctx.get(RSP), TOP - 8n);
  assert.equal(ctx.read(2, Number(TOP), 4), 5);
});

test('16-bit stack wraps SP in 16 bits; 32-bit stack uses ESP', () => {
  const ctx = context(16);
  ctx.set(RSP, 0x1_0000_1002n);
  step(ctx, '50'); // push ax
  assert.equal(ctx.get(RSP), 0x1_0000_1000n);
  const c32 = context(32);
  c32.set(RSP, TOP);
  c32.set(RAX, 0xdeadbeefn);
  step(c32, '50');
  assert.equal(c32.get(RSP), TOP - 4n);
  step(c32, '5b'); // pop ebx
  assert.equal(c32.get(3), 0xdeadbeefn);
});

test('call/ret near, ret imm16, indirect call through memory', () => {
  const ctx = context(64);
  ctx.set(RSP, TOP);
  ctx.rip = 0x400n;
  step(ctx, 'e8fb000000'); // call +0xfb -> 0x400 + 5 + 0xfb = 0x500
  assert.equal(ctx.rip, 0x500n);
  assert.equal(ctx.get(RSP), TOP - 8n);
  step(ctx, 'c21000'); // ret 16
  assert.equal(ctx.rip, 0x405n);
  assert.equal(ctx.get(RSP), TOP + 16n);
  ctx.write(3, BASE + 0x40, 8, 0x7000, 0);
  ctx.set(RAX, BigInt(BASE));
  step(ctx, 'ff5040'); // call [rax+0x40]
  assert.equal(ctx.rip, 0x7000n);
});

test('a near branch to a non-canonical address raises #GP(0) and changes nothing', () => {
  const ctx = context(64);
  ctx.set(RSP, TOP);
  ctx.set(RAX, 0x0000_8000_0000_0000n);
  const s = snapshot(ctx);
  assert.throws(() => step(ctx, 'ffd0'), (e: unknown) => e instanceof X86Fault && e.vector === 13 && e.errorCode === 0);
  assert.equal(snapshot(ctx), s);
});

test('16-bit and 32-bit branches truncate the target; Jcc follows the flags', () => {
  const c16 = context(16);
  c16.rip = 0xfff0n;
  step(c16, 'eb20'); // jmp +0x20: wraps at 64 KiB
  assert.equal(c16.rip, 0x12n);
  const c32 = context(32);
  c32.rip = 0xffff_fff0n;
  step(c32, 'e920000000');
  assert.equal(c32.rip, 0x15n);
  const c = context(64);
  c.flags |= ZF;
  step(c, '7410'); // je +0x10
  assert.equal(c.rip, 0x112n);
  step(c, '7510'); // jne: not taken
  assert.equal(c.rip, 0x114n);
  step(c, '0f84f0ffffff'); // je -0x10 (rel32)
  assert.equal(c.rip, 0x114n + 6n - 0x10n);
});

test('loop/loope/jrcxz count with the address size', () => {
  const ctx = context(64);
  ctx.set(RCX, 0x1_0000_0001n);
  step(ctx, '67e2fe'); // loop with ecx: 1 -> 0, falls through; upper half cleared
  assert.equal(ctx.get(RCX), 0n);
  assert.equal(ctx.rip, 0x103n);
  ctx.set(RCX, 2n);
  step(ctx, 'e2fe'); // loop -2: taken (rcx = 1)
  assert.equal(ctx.rip, 0x103n);
  ctx.flags &= ~ZF;
  step(ctx, 'e1fe'); // loope: rcx -> 0, not taken
  assert.equal(ctx.rip, 0x105n);
  step(ctx, 'e310'); // jrcxz: taken
  assert.equal(ctx.rip, 0x107n + 0x10n);
});

test('enter with nesting copies frame pointers; leave undoes it', () => {
  const ctx = context(64);
  ctx.set(RSP, TOP);
  ctx.set(RBP, TOP + 0x40n);
  ctx.write(2, Number(TOP) + 0x38, 8, 0x1234, 0);
  step(ctx, 'c8100002'); // enter 16, 2
  const frame = TOP - 8n;
  assert.equal(ctx.get(RBP), frame);
  // pushes: old rbp, [old rbp - 8], frame; then 16 bytes
  assert.equal(ctx.get(RSP), TOP - 24n - 16n);
  assert.equal(ctx.read(2, Number(TOP) - 16, 4), 0x1234);
  assert.equal(ctx.read(2, Number(TOP) - 24, 4) >>> 0, Number(frame));
  step(ctx, 'c9'); // leave
  assert.equal(ctx.get(RSP), TOP);
  assert.equal(ctx.get(RBP), TOP + 0x40n);
});

test('enter probes the new stack top: an allocation reaching unmapped memory faults', () => {
  const ctx = context(64);
  ctx.set(RSP, BigInt(BASE + 0x10));
  const s = snapshot(ctx);
  assert.throws(() => step(ctx, 'c8090000'), (e: unknown) => e instanceof X86Fault && e.vector === 14);
  assert.equal(snapshot(ctx), s);
  step(ctx, 'c8080000');
  assert.equal(ctx.get(RSP), BigInt(BASE));
});

test('pushf/popf: RF/VM never pushed; IF and IOPL change only with privilege; no cpl -> not handled', () => {
  const ctx = context(64);
  ctx.set(RSP, TOP);
  ctx.flags = 0x202 | (1 << 16) | CF;
  step(ctx, '9c');
  assert.equal(ctx.read(2, Number(TOP) - 8, 4), 0x203);
  ctx.write(2, Number(TOP) - 8, 8, 0x3000 | 0x400 | 0x1, 0); // IOPL 3, DF, CF, IF clear
  assert.equal(step(ctx, '9d'), false, 'popf needs ctx.cpl');
  ctx.cpl = 3;
  step(ctx, '9d');
  assert.equal(ctx.flags, 0x2 | 0x200 | 0x400 | 0x1, 'cpl 3 > iopl 0: IF and IOPL unchanged');
  ctx.cpl = 0;
  ctx.set(RSP, TOP - 8n);
  step(ctx, '9d');
  assert.equal(ctx.flags, 0x2 | 0x3000 | 0x400 | 0x1);
  assert.equal(ctx.flags & IF, 0);
});
