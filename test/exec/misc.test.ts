/** Faults, rollbacks, LOCK, mode-specific forms, BCD, and what execute() declines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execute } from '../../src/x86/exec/index.js';
import { AF, CF, X86Fault, ZF } from '../../src/x86/exec/context.js';
import { encode } from './encode.js';
import { BASE, context, insnOf, snapshot, step, RAX, RBX, RCX, RDX, RSP } from './helpers.js';
import { Rng, testSeed } from './rng.js';

const isFault = (vector: number) => (e: unknown): boolean => e instanceof X86Fault && e.vector === vector;

test('DIV/IDIV: #DE on zero divisor and on quotient overflow, with nothing changed', () => {
  const ctx = context(64);
  ctx.set(RAX, 100n); ctx.set(RDX, 0n); ctx.set(RCX, 0n);
  let s = snapshot(ctx);
  assert.throws(() => step(ctx, '48f7f1'), isFault(0));
  assert.equal(snapshot(ctx), s);
  ctx.set(RDX, 5n); ctx.set(RCX, 5n); // 128-bit dividend / 5 overflows 64 bits
  s = snapshot(ctx);
  assert.throws(() => step(ctx, '48f7f1'), isFault(0));
  assert.equal(snapshot(ctx), s);
  // idiv: -128 fits in AL, +128 does not
  ctx.set(RAX, BigInt.asUintN(16, -256n)); ctx.set(RCX, 2n);
  step(ctx, 'f6f9');
  assert.equal(ctx.get(RAX) & 0xffn, 0x80n);
  ctx.set(RAX, 256n); ctx.rip = 0x100n;
  assert.throws(() => step(ctx, 'f6f9'), isFault(0));
});

test('64-bit DIV with RDX = 0 and operands below 2^52 (the double-arithmetic path) is exact; seeded', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const ctx = context(64);
  const below = (bits: number): bigint => rng.u64() >> BigInt(64 - 1 - rng.int(bits));
  const cases: [bigint, bigint][] = [[1n << 32n, 1n], [(1n << 52n) - 1n, 1n], [(1n << 52n) - 1n, (1n << 52n) - 1n], [(1n << 52n) - 1n, 3n], [0n, 7n]];
  for (let i = 0; i < 3000; i++) cases.push([below(52), below(52) | 1n]);
  for (const [n, d] of cases) {
    ctx.set(RDX, 0n); ctx.set(RAX, n); ctx.set(RBX, d); ctx.rip = 0x100n;
    step(ctx, '48f7f3');
    assert.equal(ctx.get(RAX), n / d, `seed ${seed}: ${n} / ${d}`);
    assert.equal(ctx.get(RDX), n % d, `seed ${seed}: ${n} % ${d}`);
  }
});

test('64-bit DIV by a divisor below 2^32 with RDX below it (the 16-bit long-division path) is exact; seeded', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const ctx = context(64);
  const M32 = (1n << 32n) - 1n, M64 = (1n << 64n) - 1n;
  const cases: [bigint, bigint, bigint][] = [[0n, M64, M32], [M32 - 1n, M64, M32], [0n, M64, 1n], [0n, 1n << 63n, 3n], [2n, 0n, 3n], [0n, 0xfedc_ba98_7654_3210n, 0x1_0001n]];
  for (let i = 0; i < 5000; i++) {
    const d = (rng.u64() >> BigInt(32 + rng.int(32))) | 1n;
    cases.push([rng.int(2) === 0 ? 0n : rng.u64() % d, rng.u64(), d]);
  }
  for (const [hi, lo, d] of cases) {
    const n = (hi << 64n) | lo;
    ctx.set(RDX, hi); ctx.set(RAX, lo); ctx.set(RBX, d); ctx.rip = 0x100n;
    step(ctx, '48f7f3');
    assert.equal(ctx.get(RAX), n / d, `seed ${seed}: ${n} / ${d}`);
    assert.equal(ctx.get(RDX), n % d, `seed ${seed}: ${n} % ${d}`);
  }
});

test('128/64 division is exact', () => {
  const ctx = context(64);
  const n = (0x0123_4567_89ab_cdefn << 64n) | 0xfedc_ba98_7654_3210n, d = 0xffff_ffff_ffff_fff1n;
  ctx.set(RDX, n >> 64n); ctx.set(RAX, n & ((1n << 64n) - 1n)); ctx.set(RBX, d);
  step(ctx, '48f7f3');
  assert.equal(ctx.get(RAX), n / d);
  assert.equal(ctx.get(RDX), n % d);
  // idiv with negative dividend: truncation toward zero, remainder has the dividend's sign
  ctx.set(RDX, 0xffff_ffff_ffff_ffffn); ctx.set(RAX, BigInt.asUintN(64, -7n)); ctx.set(RBX, 2n);
  step(ctx, '48f7fb');
  assert.equal(BigInt.asIntN(64, ctx.get(RAX)), -3n);
  assert.equal(BigInt.asIntN(64, ctx.get(RDX)), -1n);
});

test('a faulting memory write leaves registers and flags unchanged (read-modify-write, xchg, cmpxchg)', () => {
  const ctx = context(64);
  ctx.writeFaultFrom = BASE + 0x100; // the read succeeds, the write faults
  ctx.set(RBX, BigInt(BASE + 0x100));
  ctx.flags = 0x2 | CF | ZF;
  const s = snapshot(ctx);
  for (const hex of ['480103', '48870b', '480fb10b', '48ff03', '48d123', '480fab03', '480fc103']) {
    ctx.rip = 0x100n;
    assert.throws(() => step(ctx, hex), isFault(14), hex);
    assert.equal(snapshot(ctx), s, hex);
    assert.ok(ctx.log.some((a) => !a.write), `${hex} read first`);
  }
});

test('LOCK: allowed on memory read-modify-write, #UD on a register destination or a non-lockable op', () => {
  const ctx = context(64);
  ctx.set(RBX, BigInt(BASE + 0x100));
  assert.equal(step(ctx, 'f0480103'), true); // lock add [rbx], rax
  const reg = encode({ opcode: 0x01, opSize: 8, reg: 0, rm: 3 }).insn;
  assert.throws(() => execute(ctx, { ...reg, lock: true }), isFault(6));
  const cmp = encode({ opcode: 0x39, opSize: 8, reg: 0, rm: 3, disp8: 0 }).insn;
  assert.throws(() => execute(ctx, { ...cmp, lock: true }), isFault(6));
});

test('CMPXCHG16B needs 16-byte alignment; MOVBE needs memory', () => {
  const ctx = context(64);
  ctx.set(RBX, BigInt(BASE + 0x108));
  assert.throws(() => step(ctx, '480fc70b'), (e: unknown) => e instanceof X86Fault && e.vector === 13 && e.errorCode === 0);
  const reg = encode({ map: 2, opcode: 0xf0, opSize: 4, reg: 0, rm: 1 }).insn;
  assert.throws(() => execute(ctx, reg), isFault(6));
});

test('NOP (90) and PAUSE do not zero-extend EAX; XCHG eax, r8d does', () => {
  const ctx = context(64);
  ctx.set(RAX, 0xffff_ffff_0000_0001n);
  step(ctx, '90');
  step(ctx, 'f390');
  assert.equal(ctx.get(RAX), 0xffff_ffff_0000_0001n);
  ctx.set(8, 0xaaaa_aaaa_0000_0002n);
  step(ctx, '4190'); // xchg eax, r8d
  assert.equal(ctx.get(RAX), 2n);
  assert.equal(ctx.get(8), 1n);
});

test('legacy-mode forms: INC/DEC 40-4F, PUSHA/POPA, 63 is ARPL (declined), BCD adjusts', () => {
  const ctx = context(32);
  ctx.set(RAX, 0xffffffffn);
  step(ctx, '40'); // inc eax
  assert.equal(ctx.get(RAX), 0n);
  assert.equal(ctx.flags & ZF, ZF);
  ctx.set(RSP, BigInt(BASE + 0x8000));
  ctx.set(RBX, 0x1234n);
  step(ctx, '60'); // pushad
  assert.equal(ctx.get(RSP), BigInt(BASE + 0x8000 - 32));
  ctx.set(RBX, 0n);
  step(ctx, '61'); // popad
  assert.equal(ctx.get(RBX), 0x1234n);
  assert.equal(ctx.get(RSP), BigInt(BASE + 0x8000));
  assert.equal(step(ctx, '63c0'), false);
  // 0x79 + 0x35 = 0xae; DAA -> 0x14, CF
  ctx.set(RAX, 0xaen); ctx.flags = 0x2;
  step(ctx, '27');
  assert.equal(ctx.get(RAX) & 0xffn, 0x14n);
  assert.equal(ctx.flags & CF, CF);
  // 0x35 - 0x47 = 0xee with CF, AF; DAS -> 0x88, CF
  ctx.set(RAX, 0xeen); ctx.flags = 0x2 | CF | AF;
  step(ctx, '2f');
  assert.equal(ctx.get(RAX) & 0xffn, 0x88n);
  assert.equal(ctx.flags & CF, CF);
  // AAA: AL=0x0b -> AX += 0x106, AL &= 0x0f
  ctx.set(RAX, 0x000bn); ctx.flags = 0x2;
  step(ctx, '37');
  assert.equal(ctx.get(RAX) & 0xffffn, 0x0101n);
  // AAM 10: AL=47 -> AH=4, AL=7; AAD 10 reverses it
  ctx.set(RAX, 47n);
  step(ctx, 'd40a');
  assert.equal(ctx.get(RAX) & 0xffffn, 0x0407n);
  step(ctx, 'd50a');
  assert.equal(ctx.get(RAX) & 0xffffn, 47n);
  ctx.rip = 0x100n;
  assert.throws(() => step(ctx, 'd400'), isFault(0));
});

test('system, I/O, x87/SSE and far forms are declined with nothing changed', () => {
  const ctx = context(64);
  ctx.set(RSP, BigInt(BASE + 0x8000));
  const s = snapshot(ctx);
  for (const hex of ['0fa2', 'f4', 'e460', 'ee', '6c', '0f20d8', '0f01d0', 'cd80', '48cf', 'fa', 'fb', '0f05', '0f31',
    'ff1b', 'ff2b', '8ed8', '0fa1', 'd9c0', '0f28c1', '9d', '0f0b']) {
    let r: boolean | string;
    try { r = step(ctx, hex); } catch (e) { r = (e as Error).message; }
    assert.equal(r, false, hex);
    assert.equal(snapshot(ctx), s, hex);
  }
});

test('CMOVcc with a false condition still zero-extends a 32-bit destination; BSF with zero source keeps it', () => {
  const ctx = context(64);
  ctx.set(RAX, 0xffff_ffff_1234_5678n);
  ctx.flags = 0x2; // ZF clear: cmove not taken
  step(ctx, '0f44c1');
  assert.equal(ctx.get(RAX), 0x1234_5678n);
  ctx.set(RAX, 0xffff_ffff_1234_5678n); ctx.set(RCX, 0n);
  step(ctx, '0fbcc1'); // bsf eax, ecx with ecx = 0
  assert.equal(ctx.get(RAX), 0xffff_ffff_1234_5678n);
  assert.equal(insnOf('0fbcc1', 64).opSize, 4);
});
