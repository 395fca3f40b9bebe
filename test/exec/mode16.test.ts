/** 16-bit code (real mode and 16-bit protected mode share these rules): sizes and wrapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, step, RAX, RBX, RCX, RSP, RSI } from './helpers.js';

test('16-bit call/ret push and pop IP; 66-prefixed forms use 32-bit operands', () => {
  const ctx = context(16);
  ctx.set(RSP, 0x2000n);
  ctx.rip = 0x1100n;
  step(ctx, 'e8fd00'); // call +0xfd -> 0x1200
  assert.equal(ctx.rip, 0x1200n);
  assert.equal(ctx.get(RSP), 0x1ffen);
  assert.equal(ctx.read(2, 0x1ffe, 2), 0x1103);
  step(ctx, 'c3');
  assert.equal(ctx.rip, 0x1103n);
  assert.equal(ctx.get(RSP), 0x2000n);
  step(ctx, '6668efbeadde'); // push dword 0xdeadbeef
  assert.equal(ctx.get(RSP), 0x1ffcn);
  step(ctx, '6658'); // pop eax
  assert.equal(ctx.get(RAX), 0xdeadbeefn);
});

test('16-bit loop counts CX only; jcxz tests CX', () => {
  const ctx = context(16);
  ctx.set(RCX, 0x1_0001n);
  ctx.rip = 0x1100n;
  step(ctx, 'e2fe'); // loop: CX 1 -> 0, not taken, upper ECX bits kept
  assert.equal(ctx.get(RCX), 0x1_0000n);
  assert.equal(ctx.rip, 0x1102n);
  step(ctx, 'e305'); // jcxz: taken
  assert.equal(ctx.rip, 0x1109n);
});

test('16-bit XLAT and bit strings wrap their offsets at 64 KiB', () => {
  const ctx = context(16);
  ctx.write(3, 0x1005, 1, 0x5a, 0);
  ctx.set(RBX, 0xffff_1000n); // only BX counts
  ctx.set(RAX, 5n);
  step(ctx, 'd7');
  assert.equal(ctx.get(RAX) & 0xffn, 0x5an);
  // bts word [si], ax with ax = -1: the word below [si]
  ctx.set(RSI, 0x1010n);
  ctx.set(RAX, 0xffffn);
  step(ctx, '0fab04');
  assert.equal(ctx.read(3, 0x100e, 2), 0x8000);
});

test('real-mode popf (cpl 0) may change IOPL and IF; pushf pushes 16 bits', () => {
  const ctx = context(16);
  ctx.cpl = 0;
  ctx.set(RSP, 0x2000n);
  ctx.flags = 0x202;
  step(ctx, '9c');
  assert.equal(ctx.read(2, 0x1ffe, 2), 0x202);
  ctx.write(2, 0x1ffe, 2, 0x3001, 0);
  step(ctx, '9d');
  assert.equal(ctx.flags, 0x3003);
});
