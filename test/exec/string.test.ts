/** REP string instructions: counting, early termination, budgets, faults mid-loop, address sizes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X86Fault, DF, ZF } from '../../src/x86/exec/context.js';
import { BASE, context, snapshot, step, RAX, RCX, RSI, RDI } from './helpers.js';

test('rep movsb copies RCX bytes forward and advances RIP only when done', () => {
  const ctx = context(64);
  ctx.mem.set([1, 2, 3, 4, 5], 0x100);
  ctx.set(RSI, BigInt(BASE + 0x100)); ctx.set(RDI, BigInt(BASE + 0x200)); ctx.set(RCX, 5n);
  assert.equal(step(ctx, 'f3a4'), true);
  assert.deepEqual(Array.from(ctx.mem.subarray(0x200, 0x205)), [1, 2, 3, 4, 5]);
  assert.equal(ctx.get(RCX), 0n);
  assert.equal(ctx.get(RSI), BigInt(BASE + 0x105));
  assert.equal(ctx.rip, 0x102n);
});

test('DF=1 walks backwards; rep with RCX=0 does nothing but advance', () => {
  const ctx = context(64);
  ctx.flags |= DF;
  ctx.set(RAX, 0x1122334455667788n);
  ctx.set(RDI, BigInt(BASE + 0x108)); ctx.set(RCX, 2n);
  step(ctx, 'f348ab'); // rep stosq
  assert.equal(ctx.get(RDI), BigInt(BASE + 0xf8));
  assert.equal(ctx.mem[0x100], 0x88);
  assert.equal(ctx.mem[0x10f], 0x11);
  const before = ctx.log.length;
  ctx.rip = 0x100n;
  step(ctx, 'f348ab');
  assert.equal(ctx.log.length, before, 'no memory access with RCX = 0');
  assert.equal(ctx.rip, 0x103n);
});

test('repe cmpsb stops at the first difference; repne scasb at the first match', () => {
  const ctx = context(64);
  ctx.mem.set([7, 7, 7, 9], 0x100);
  ctx.mem.set([7, 7, 8, 9], 0x200);
  ctx.set(RSI, BigInt(BASE + 0x100)); ctx.set(RDI, BigInt(BASE + 0x200)); ctx.set(RCX, 10n);
  step(ctx, 'f3a6');
  assert.equal(ctx.get(RCX), 7n);
  assert.equal(ctx.get(RSI), BigInt(BASE + 0x103));
  assert.equal(ctx.flags & ZF, 0);
  ctx.set(RAX, 9n); ctx.set(RDI, BigInt(BASE + 0x200)); ctx.set(RCX, 10n);
  ctx.rip = 0x100n;
  step(ctx, 'f2ae');
  assert.equal(ctx.get(RDI), BigInt(BASE + 0x204));
  assert.equal(ctx.get(RCX), 6n);
  assert.equal(ctx.flags & ZF, ZF);
});

test('repBudget bounds iterations and is consumed by them; RIP stays until the count is exhausted', () => {
  const ctx = context(64);
  ctx.repBudget = 3;
  ctx.set(RDI, BigInt(BASE + 0x100)); ctx.set(RCX, 7n);
  step(ctx, 'f3aa');
  assert.deepEqual([ctx.get(RCX), ctx.rip, ctx.repBudget], [4n, 0x100n, 0]);
  step(ctx, 'f3aa');
  assert.deepEqual([ctx.get(RCX), ctx.rip], [4n, 0x100n], 'an exhausted budget runs no iteration');
  ctx.repBudget = 3;
  step(ctx, 'f3aa');
  assert.deepEqual([ctx.get(RCX), ctx.rip, ctx.repBudget], [1n, 0x100n, 0]);
  ctx.repBudget = 3;
  step(ctx, 'f3aa');
  assert.deepEqual([ctx.get(RCX), ctx.rip, ctx.repBudget], [0n, 0x102n, 2]);
  assert.equal(ctx.get(RDI), BigInt(BASE + 0x107));
});

test('a fault mid-loop leaves the state of the completed iterations', () => {
  const ctx = context(64);
  ctx.faultFrom = BASE + 0x203; // the 4th destination byte faults
  ctx.set(RSI, BigInt(BASE + 0x100)); ctx.set(RDI, BigInt(BASE + 0x200)); ctx.set(RCX, 8n);
  assert.throws(() => step(ctx, 'f3a4'), (e: unknown) => e instanceof X86Fault && e.vector === 14);
  assert.equal(ctx.get(RCX), 5n);
  assert.equal(ctx.get(RSI), BigInt(BASE + 0x103));
  assert.equal(ctx.get(RDI), BigInt(BASE + 0x203));
  assert.equal(ctx.rip, 0x100n);
});

test('16-bit address size steps SI/DI/CX in 16 bits and keeps the upper bits', () => {
  const ctx = context(16);
  ctx.set(RSI, 0xabcd_0000_2fffn); ctx.set(RDI, 0x1000n); ctx.set(RCX, 0x7777_0002n);
  step(ctx, 'f3a4');
  assert.equal(ctx.get(RSI), 0xabcd_0000_3001n);
  assert.equal(ctx.get(RCX), 0x7777_0000n);
  // DI = 0xffff wraps to 0 after one STOSB; the bits above DI stay.
  ctx.set(RDI, 0x5_0000_ffffn); ctx.set(RCX, 1n);
  ctx.rip = 0x100n;
  step(ctx, 'f3aa');
  assert.equal(ctx.get(RDI), 0x5_0000_0000n);
});

test('string ops without REP run once; LODS zero-extends a 32-bit load', () => {
  const ctx = context(64);
  ctx.mem.set([0xef, 0xbe, 0xad, 0xde], 0x100);
  ctx.set(RAX, 0xffff_ffff_ffff_ffffn);
  ctx.set(RSI, BigInt(BASE + 0x100));
  const s = snapshot(ctx);
  step(ctx, 'ad');
  assert.notEqual(snapshot(ctx), s);
  assert.equal(ctx.get(RAX), 0xdeadbeefn);
  assert.equal(ctx.get(RSI), BigInt(BASE + 0x104));
});
