/**
 * Hand-checked examples for each family of the SSE/MMX layer, through executeVector over a flat
 * context (they run where the native oracle cannot: no gcc, not x86-64): moves, logic, integer
 * arithmetic with saturation, compares, pack/unpack, shuffles, shifts, GPR transfers, SSSE3,
 * SSE4.1, the PCMPxSTRx aggregations and MASKMOVDQU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { CF, OF, SF, ZF } from '../../src/x86/exec/context.js';
import { executeVector, vectorFormName } from '../../src/x86/sse/index.js';
import { FlatVectorContext } from './vector-context.js';

const MEM = 0x1000;
const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Little-endian lanes of w bytes -> 16 bytes (missing lanes zero). */
function lanes(w: number, values: number[]): Uint8Array {
  const b = new Uint8Array(16);
  values.forEach((v, i) => { for (let k = 0; k < w; k++) b[i * w + k] = Number((BigInt.asUintN(64, BigInt(v)) >> BigInt(8 * k)) & 0xffn); });
  return b;
}
const str = (s: string): Uint8Array => { const b = new Uint8Array(16); b.set(Buffer.from(s, 'latin1')); return b; };

interface Setup { xmm?: Record<number, Uint8Array>; mm?: Record<number, Uint8Array>; regs?: Record<number, bigint>; mem?: Uint8Array; flags?: number }

function run(code: string, s: Setup): FlatVectorContext {
  const ctx = new FlatVectorContext(new Uint8Array(256), MEM);
  if (s.mem) ctx.mem.set(s.mem);
  for (const [k, v] of Object.entries(s.xmm ?? {})) ctx.xmm[Number(k)]!.set(v);
  for (const [k, v] of Object.entries(s.mm ?? {})) ctx.mm(Number(k)).set(v.subarray(0, 8));
  for (const [k, v] of Object.entries(s.regs ?? {})) ctx.set(Number(k), v);
  ctx.flags = s.flags ?? 2;
  ctx.rip = 0x400000n;
  const insn = decode(bytes(code), 64);
  assert.equal(executeVector(ctx, insn), undefined, `${code} ran`);
  assert.equal(ctx.rip, 0x400000n + BigInt(insn.length));
  return ctx;
}

test('moves: MOVSS/MOVSD load zeroes, register form merges; MOVQ zero-extends; MOVD/MOVQ to a GPR', () => {
  const mem = lanes(4, [0x11111111, 0x22222222, 0x33333333, 0x44444444]);
  const full = lanes(4, [-1, -1, -1, -1]);
  // movss xmm0, [0x1000] ; movss xmm0, xmm1
  assert.equal(hex(run('f30f10042500100000', { mem, xmm: { 0: full } }).xmm[0]!), hex(lanes(4, [0x11111111])));
  assert.equal(hex(run('f30f10c1', { xmm: { 0: full, 1: mem } }).xmm[0]!), hex(lanes(4, [0x11111111, -1, -1, -1])));
  assert.equal(hex(run('f20f10042500100000', { mem, xmm: { 0: full } }).xmm[0]!), hex(lanes(4, [0x11111111, 0x22222222])));
  // movq xmm0, xmm1 (F3 0F 7E) ; movq rax, xmm1 (66 REX.W 0F 7E) ; movd eax, xmm1
  assert.equal(hex(run('f30f7ec1', { xmm: { 0: full, 1: mem } }).xmm[0]!), hex(lanes(4, [0x11111111, 0x22222222])));
  assert.equal(run('66480f7ec8', { xmm: { 1: mem } }).get(0), 0x2222222211111111n);
  assert.equal(run('660f7ec8', { xmm: { 1: mem }, regs: { 0: -1n } }).get(0), 0x11111111n);
  // movhlps xmm0, xmm1 ; movlhps xmm0, xmm1
  assert.equal(hex(run('0f12c1', { xmm: { 0: full, 1: mem } }).xmm[0]!), hex(lanes(4, [0x33333333, 0x44444444, -1, -1])));
  assert.equal(hex(run('0f16c1', { xmm: { 0: full, 1: mem } }).xmm[0]!), hex(lanes(4, [-1, -1, 0x11111111, 0x22222222])));
  // movdqu [0x1001], xmm1 stores 16 bytes unaligned
  const m = run('f30f7f0c2501100000', { xmm: { 1: mem } }).mem;
  assert.equal(hex(m.subarray(1, 17)), hex(mem));
});

test('integer arithmetic: wrapping, saturation, multiplies, PMADDWD overflow, PSADBW, PAVGB', () => {
  const r = (code: string, a: Uint8Array, b: Uint8Array) => hex(run(code, { xmm: { 1: a, 2: b } }).xmm[1]!);
  assert.equal(r('660fdcca', lanes(1, [0xf0, 0x10, 0xff]), lanes(1, [0x20, 0x10, 0x01])), hex(lanes(1, [0xff, 0x20, 0xff])), 'paddusb');
  assert.equal(r('660fe9ca', lanes(2, [-32768, 5]), lanes(2, [1, 7])), hex(lanes(2, [-32768, -2])), 'psubsw');
  assert.equal(r('660fd8ca', lanes(1, [5, 200]), lanes(1, [10, 100])), hex(lanes(1, [0, 100])), 'psubusb');
  assert.equal(r('660ffcca', lanes(1, [0xff]), lanes(1, [2])), hex(lanes(1, [1])), 'paddb wraps');
  assert.equal(r('660fe5ca', lanes(2, [-2, 0x4000]), lanes(2, [3, 4])), hex(lanes(2, [-1, 1])), 'pmulhw');
  assert.equal(r('660fe4ca', lanes(2, [0xffff]), lanes(2, [0xffff])), hex(lanes(2, [0xfffe])), 'pmulhuw');
  assert.equal(r('660ff5ca', lanes(2, [-32768, -32768]), lanes(2, [-32768, -32768])), hex(lanes(4, [0x80000000])), 'pmaddwd');
  assert.equal(r('660ff4ca', lanes(4, [0xffffffff, 9, 2]), lanes(4, [0xffffffff, 9, 3])), hex(lanes(8, [0xfffffffe00000001n as unknown as number, 6])), 'pmuludq');
  assert.equal(r('660ff6ca', lanes(1, [0, 255, 10]), lanes(1, [255, 0, 20])), hex(lanes(8, [520])), 'psadbw');
  assert.equal(r('660fe0ca', lanes(1, [1, 255]), lanes(1, [2, 255])), hex(lanes(1, [2, 255])), 'pavgb rounds up');
});

test('compares, logic, pack/unpack, shuffles and shifts', () => {
  const r = (code: string, a: Uint8Array, b: Uint8Array = new Uint8Array(16)) => hex(run(code, { xmm: { 1: a, 2: b } }).xmm[1]!);
  assert.equal(r('660f64ca', lanes(1, [0x80, 0x7f]), lanes(1, [0x7f, 0x80])), hex(lanes(1, [0, 0xff])), 'pcmpgtb is signed');
  assert.equal(r('660f74ca', lanes(1, [3, 4]), lanes(1, [3, 5])), hex(lanes(1, [0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'pcmpeqb');
  assert.equal(r('660fdfca', lanes(1, [0xf0]), lanes(1, [0xff])), hex(lanes(1, [0x0f])), 'pandn: NOT dst AND src');
  assert.equal(r('660f67ca', lanes(2, [-1, 300, 5])), hex(lanes(1, [0, 255, 5])), 'packuswb');
  assert.equal(r('660f6bca', lanes(4, [70000, -70000])), hex(lanes(2, [32767, -32768])), 'packssdw');
  assert.equal(r('660f60ca', lanes(1, [1, 2, 3]), lanes(1, [0xa, 0xb])), hex(lanes(1, [1, 0xa, 2, 0xb, 3])), 'punpcklbw');
  assert.equal(r('660f6dca', lanes(8, [1, 2]), lanes(8, [3, 4])), hex(lanes(8, [2, 4])), 'punpckhqdq');
  assert.equal(r('660f70ca1b', new Uint8Array(16), lanes(4, [1, 2, 3, 4])), hex(lanes(4, [4, 3, 2, 1])), 'pshufd 0x1b');
  assert.equal(r('0fc6ca4e', lanes(4, [1, 2, 3, 4]), lanes(4, [5, 6, 7, 8])), hex(lanes(4, [3, 4, 5, 6])), 'shufps 0x4e');
  assert.equal(r('660f73d903', lanes(1, [1, 2, 3, 4, 5])), hex(lanes(1, [4, 5])), 'psrldq 3');
  assert.equal(r('660f73f902', lanes(1, [1, 2])), hex(lanes(1, [0, 0, 1, 2])), 'pslldq 2');
  assert.equal(r('660fe1ca', lanes(2, [-5, 7]), lanes(8, [100])), hex(lanes(2, [-1, 0])), 'psraw count 100 fills the sign');
  assert.equal(r('660fd3ca', lanes(8, [-1, 1]), lanes(8, [1, 99])), hex(lanes(8, [0x7fffffffffffffffn as unknown as number, 0])), 'psrlq uses the low qword as count');
  assert.equal(r('660f72e21f', new Uint8Array(16)), hex(new Uint8Array(16)), 'psrad xmm2 leaves xmm1');
});

test('GPR transfers: PMOVMSKB, MOVMSKPS, PEXTRW/PINSRW, PEXTRB/PINSRD/PEXTRQ', () => {
  const v = lanes(1, [0x80, 0, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x90]);
  assert.equal(run('660fd7c1', { xmm: { 1: v } }).get(0), 0x8005n, 'pmovmskb eax, xmm1');
  assert.equal(run('0f50c1', { xmm: { 1: lanes(4, [-1, 1, -5, 0]) } }).get(0), 5n, 'movmskps');
  assert.equal(run('660fc5c103', { xmm: { 1: lanes(2, [1, 2, 3, 0xbeef]) } }).get(0), 0xbeefn, 'pextrw eax, xmm1, 3');
  assert.equal(hex(run('660fc4c802', { regs: { 0: 0x12345n } }).xmm[1]!), hex(lanes(2, [0, 0, 0x2345])), 'pinsrw xmm1, eax, 2');
  assert.equal(run('660f3a14c80f', { xmm: { 1: v }, regs: { 0: -1n } }).get(0), 0x90n, 'pextrb eax, xmm1, 15');
  assert.equal(hex(run('660f3a22c803', { regs: { 0: 0xaabbccddn } }).xmm[1]!), hex(lanes(4, [0, 0, 0, 0xaabbccdd])), 'pinsrd xmm1, eax, 3');
  assert.equal(run('66480f3a16c801', { xmm: { 1: lanes(8, [1, 0x1122334455667788n as unknown as number]) } }).get(0), 0x1122334455667788n, 'pextrq rax, xmm1, 1');
});

test('SSSE3: PSHUFB, PHADDSW, PMADDUBSW, PMULHRSW, PSIGN, PABS, PALIGNR (XMM and MMX)', () => {
  const r = (code: string, a: Uint8Array, b: Uint8Array) => hex(run(code, { xmm: { 1: a, 2: b } }).xmm[1]!);
  assert.equal(r('660f3800ca', lanes(1, [10, 11, 12, 13]), lanes(1, [3, 0x80, 0, 0x81])), hex(lanes(1, [13, 0, 10, 0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10])), 'pshufb');
  assert.equal(r('660f3803ca', lanes(2, [32767, 1, 5, 6]), lanes(2, [-32768, -1])), hex(lanes(2, [32767, 11, 0, 0, -32768, 0, 0, 0])), 'phaddsw');
  assert.equal(r('660f3804ca', lanes(1, [255, 255]), lanes(1, [127, 127])), hex(lanes(2, [32767])), 'pmaddubsw saturates');
  assert.equal(r('660f380bca', lanes(2, [0x4000]), lanes(2, [0x4000])), hex(lanes(2, [0x2000])), 'pmulhrsw');
  assert.equal(r('660f3808ca', lanes(1, [5, 5, 5]), lanes(1, [-1, 0, 1])), hex(lanes(1, [-5, 0, 5])), 'psignb');
  assert.equal(r('660f381cca', new Uint8Array(16), lanes(1, [0x80, 0xff, 3])), hex(lanes(1, [0x80, 1, 3])), 'pabsb');
  assert.equal(r('660f3a0fca03', lanes(1, [100, 101]), lanes(1, Array.from({ length: 16 }, (_, i) => i))), hex(lanes(1, [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 100, 101, 0])), 'palignr 3');
  const mm = run('0f3a0fca02', { mm: { 1: lanes(1, [1, 2, 3, 4, 5, 6, 7, 8]), 2: lanes(1, [9, 10, 11, 12, 13, 14, 15, 16]) } });
  assert.equal(hex(mm.mm(1)), hex(lanes(1, [11, 12, 13, 14, 15, 16, 1, 2]).subarray(0, 8)), 'palignr mm1, mm2, 2');
});

test('SSE4.1: PMOVSX/ZX, blends, PTEST flags, PHMINPOSUW, MPSADBW, INSERTPS, PMULDQ', () => {
  const r = (code: string, a: Uint8Array, b: Uint8Array, x0?: Uint8Array) => hex(run(code, { xmm: { 0: x0 ?? new Uint8Array(16), 1: a, 2: b } }).xmm[1]!);
  const z = new Uint8Array(16);
  assert.equal(r('660f3820ca', z, lanes(1, [0x80, 0x7f])), hex(lanes(2, [-128, 127])), 'pmovsxbw');
  assert.equal(r('660f3830ca', z, lanes(1, [0x80, 0x7f])), hex(lanes(2, [128, 127])), 'pmovzxbw');
  assert.equal(r('660f3825ca', z, lanes(4, [-2, 3])), hex(lanes(8, [-2, 3])), 'pmovsxdq');
  assert.equal(r('660f3a0eca05', lanes(2, [1, 1, 1, 1]), lanes(2, [2, 2, 2, 2])), hex(lanes(2, [2, 1, 2, 1])), 'pblendw 0x05');
  assert.equal(r('660f3810ca', lanes(1, [1, 1]), lanes(1, [2, 2]), lanes(1, [0x80, 0x7f])), hex(lanes(1, [2, 1])), 'pblendvb uses XMM0 sign bits');
  assert.equal(r('660f3841ca', z, lanes(2, [9, 4, 7, 4, 8, 9, 9, 9])), hex(lanes(2, [4, 1])), 'phminposuw: lowest index of the minimum');
  assert.equal(r('660f3a21ca90', lanes(4, [1, 2, 3, 4]), lanes(4, [5, 6, 7, 8])), hex(lanes(4, [1, 7, 3, 4])), 'insertps 0x90: src lane 2 -> dst lane 1');
  assert.equal(r('660f3a21ca0f', lanes(4, [1, 2, 3, 4]), lanes(4, [5, 6, 7, 8])), hex(z), 'insertps zero mask');
  assert.equal(r('660f3828ca', lanes(4, [-3, 0, 4]), lanes(4, [5, 0, -6])), hex(lanes(8, [-15, -24])), 'pmuldq');
  assert.equal(r('660f3a42ca00', lanes(1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), lanes(1, [1, 2, 3, 4])), hex(lanes(2, [0, 4, 8, 12, 16, 20, 24, 28])), 'mpsadbw');
  const flags = (a: Uint8Array, b: Uint8Array) => run('660f3817ca', { xmm: { 1: a, 2: b }, flags: 0x8d7 }).flags & 0x8d5;
  assert.equal(flags(lanes(1, [0xf0]), lanes(1, [0x0f])), ZF, 'ptest: disjoint -> ZF');
  assert.equal(flags(lanes(1, [0xff]), lanes(1, [0x0f])), CF, 'ptest: src within dst -> CF');
  assert.equal(flags(z, z), ZF | CF, 'ptest zero');
});

test('PCMPxSTRx: equal any, ranges, equal each, equal ordered, polarity, explicit lengths, masks', () => {
  const stri = (code: string, a: Uint8Array, b: Uint8Array, regs: Record<number, bigint> = {}) => {
    const c = run(code, { xmm: { 1: a, 2: b }, regs: { 1: -1n, ...regs } });
    return { ecx: Number(c.get(1)), flags: c.flags & 0x8d5 };
  };
  // pcmpistri xmm1, xmm2, imm: 66 0F 3A 63 CA imm
  assert.deepEqual(stri('660f3a63ca0c', str('lo'), str('hello')), { ecx: 3, flags: CF | ZF | SF }, 'equal ordered: "lo" in "hello"');
  assert.deepEqual(stri('660f3a63ca00', str('xyz'), str('abcz')), { ecx: 3, flags: CF | ZF | SF }, 'equal any');
  assert.deepEqual(stri('660f3a63ca04', str('az'), str('ABCd')), { ecx: 3, flags: CF | ZF | SF }, 'ranges a-z');
  assert.deepEqual(stri('660f3a63ca14', str('az'), str('abcD')), { ecx: 3, flags: CF | ZF | SF }, 'ranges, negated');
  assert.deepEqual(stri('660f3a63ca44', str('az'), str('a1bc')), { ecx: 3, flags: CF | ZF | SF | OF }, 'ranges, most significant index');
  assert.deepEqual(stri('660f3a63ca08', new Uint8Array(16), str('0123456789')), { ecx: 10, flags: CF | ZF | SF }, 'equal each vs empty: strlen');
  assert.deepEqual(stri('660f3a63ca18', str('abc'), str('abd')), { ecx: 2, flags: CF | ZF | SF }, 'equal each, negated: first difference');
  const full = Uint8Array.from({ length: 16 }, (_, i) => 0x41 + i);
  assert.deepEqual(stri('660f3a63ca08', full, full), { ecx: 0, flags: CF | OF }, 'no NUL: ZF SF clear; all equal: index 0');
  assert.deepEqual(stri('660f3a63ca18', full, full), { ecx: 16, flags: 0 }, 'negated, nothing differs: 16, CF clear');
  // pcmpestri: lengths in EAX/EDX, absolute value, saturated
  assert.deepEqual(stri('660f3a61ca00', str('b'), str('abcb'), { 0: 1n, 2: -3n }), { ecx: 1, flags: CF | ZF | SF }, 'equal any, |EDX| = 3');
  assert.deepEqual(stri('660f3a61ca00', str('b'), str('abcb'), { 0: 1n, 2: 100n }), { ecx: 1, flags: CF | SF }, 'EDX saturates at 16: ZF clear');
  assert.deepEqual(stri('660f3a61ca38', str('ab'), str('ax'), { 0: 2n, 2: 2n }), { ecx: 1, flags: CF | ZF | SF }, 'masked negative: only valid elements negated');
  // pcmpistrm xmm1, xmm2: bit mask and byte mask in XMM0
  const m = run('660f3a62ca00', { xmm: { 1: str('l'), 2: str('hello') } });
  assert.equal(hex(m.xmm[0]!), hex(lanes(2, [0x0c])), 'bit mask');
  const w = run('660f3a62ca41', { xmm: { 1: lanes(2, [7]), 2: lanes(2, [7, 1, 7]) } });
  assert.equal(hex(w.xmm[0]!), hex(lanes(2, [0xffff, 0, 0xffff])), 'word mask expanded');
});

test('MASKMOVDQU stores the selected bytes at DS:RDI; MMX forms move the x87 top to 0', () => {
  const c = run('660ff7ca', { xmm: { 1: lanes(1, [1, 2, 3, 4]), 2: lanes(1, [0x80, 0, 0xff, 0]) }, regs: { 7: BigInt(MEM + 5) }, mem: new Uint8Array(256).fill(0xee) });
  assert.equal(hex(c.mem.subarray(5, 9)), '01ee03ee');
  const ctx = new FlatVectorContext(new Uint8Array(256), MEM);
  ctx.fsw = 6 << 11;
  ctx.mm(3).set(lanes(1, [9, 9, 9, 9, 9, 9, 9, 9]).subarray(0, 8));
  ctx.rip = 0x400000n;
  executeVector(ctx, decode(bytes('0fefdb'), 64)); // pxor mm3, mm3
  assert.equal(ctx.top, 0);
  assert.equal(ctx.ftw, 0xff);
  assert.equal(hex(ctx.st[3]!), '0000000000000000ffff');
});

test('vectorFormName names what the decoder calls sse', () => {
  const name = (h: string) => vectorFormName(decode(bytes(h), 64));
  assert.equal(name('660fefc0'), 'pxor');
  assert.equal(name('0fefc0'), 'pxor');
  assert.equal(name('f30f6f00'), 'movdqu');
  assert.equal(name('0f12c1'), 'movhlps');
  assert.equal(name('0f1200'), 'movlps');
  assert.equal(name('660f73f903'), 'pslldq');
  assert.equal(name('0f58c1'), 'addps');
  assert.equal(name('f30f3800c1'), undefined);
});
