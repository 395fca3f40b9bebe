/**
 * Differential test of the SSE floating-point semantics (src/x86/sse/float) against this CPU:
 * every form of SSE_FLOAT_FORMS runs on random operands (NaNs, infinities, subnormals, zeros,
 * edges, random bits and nice values) under random MXCSR settings (every rounding mode, FTZ, DAZ,
 * masked and unmasked exceptions) natively and through its handler; result bits, MXCSR after,
 * EFLAGS (COMIS) and whether #XM happened must match exactly.
 * Seeded: TSVISOR_SEED=<n> reproduces a run; the seed is printed on failure.
 * TSVISOR_SSE_FLOAT_CASES sets the case count (default 100000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMIS_EFLAGS_MASK, DAZ, FTZ, SSE_FLOAT_FORMS, unmaskedExceptions, type SseFloatForm } from '../../src/x86/sse/float/index.js';
import { F32, F64, type FloatFormat } from '../../src/x86/sse/float/format.js';
import { Rng, testSeed } from '../exec/rng.js';
import { oracleUnavailable, runOracle, type OracleCase, type OracleResult } from './oracle.js';
import { floatOperand, intOperand, relatedOperand } from './operands.js';

const TOTAL = Number(process.env.TSVISOR_SSE_FLOAT_CASES ?? 100000);

type LaneKind = FloatFormat | 'int' | 'bits';

/** The lane type of a form's source operand, from its mnemonic (cvt<from>2<to>, else the ps/pd/ss/sd suffix). */
function sourceLanes(m: string): LaneKind {
  const cvt = /^cvtt?(\w\w)2(\w\w)$/.exec(m);
  const tag = cvt ? cvt[1] : m.slice(-2);
  return tag === 'ps' || tag === 'ss' ? F32 : tag === 'pd' || tag === 'sd' ? F64 : 'int';
}

function destLanes(m: string): LaneKind {
  const cvt = /^cvtt?(\w\w)2(\w\w)$/.exec(m);
  if (!cvt) return sourceLanes(m);
  return cvt[2] === 'ps' || cvt[2] === 'ss' ? F32 : cvt[2] === 'pd' || cvt[2] === 'sd' ? F64 : 'bits';
}

function fillImage(rng: Rng, kind: LaneKind, bytes: number, related?: Uint8Array): Uint8Array {
  const img = new Uint8Array(16);
  const lane = kind === 'int' ? 4 : kind === 'bits' ? 8 : kind.bytes;
  for (let o = 0; o < bytes; o += lane) {
    let v: bigint;
    if (kind === 'int') v = intOperand(rng, 4);
    else if (kind === 'bits') v = rng.u64();
    else if (related && rng.int(3) === 0) v = relatedOperand(rng, kind, readLane(related, o, lane));
    else v = floatOperand(rng, kind);
    for (let i = 0; i < lane; i++) img[o + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
  return img;
}

function readLane(img: Uint8Array, o: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(img[o + i]);
  return v;
}

function toBig(img: Uint8Array, n: number): bigint {
  return readLane(img, 0, n);
}

function fromBig(v: bigint): Uint8Array {
  const img = new Uint8Array(16);
  for (let i = 0; i < 8; i++) img[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return img;
}

/** Instruction bytes with ModRM naming register 0 (reg) and register 1 (rm), or RAX as a GPR source. */
function encode(key: string, form: SseFloatForm, imm8: number): Uint8Array {
  const [prefix, map, rest] = key.split(':');
  const [opcode, w] = rest.split('/');
  const bytes: number[] = [];
  if (prefix) bytes.push(parseInt(prefix, 16));
  if (w === 'w1') bytes.push(0x48);
  bytes.push(0x0f);
  if (map === '2') bytes.push(0x38);
  if (map === '3') bytes.push(0x3a);
  bytes.push(parseInt(opcode, 16), form.src === 'gpr' ? 0xc0 : 0xc1);
  if (form.imm8) bytes.push(imm8);
  return Uint8Array.from(bytes);
}

function randomMxcsr(rng: Rng): number {
  let m = (rng.int(4) << 13) | (rng.int(2) ? FTZ : 0) | (rng.int(2) ? DAZ : 0);
  const masks = rng.int(10);
  m |= masks < 6 ? 0x1f80 : masks < 9 ? (rng.int(64) | (rng.int(2) ? 0x3f : 0)) << 7 : 0;
  if (rng.int(10) === 0) m |= rng.int(64);   // sticky flags already set
  return m;
}

function randomImm8(rng: Rng, mnemonic: string): number {
  if (mnemonic.startsWith('round')) return rng.int(16) | (rng.int(4) === 0 ? rng.int(16) << 4 : 0);
  return rng.int(256);
}

interface Case { key: string; form: SseFloatForm; imm8: number; native: OracleCase }

function makeCase(rng: Rng, key: string, form: SseFloatForm): Case {
  const srcKind = sourceLanes(form.mnemonic), dstKind = destLanes(form.mnemonic);
  const xmm0 = fillImage(rng, dstKind, 16);
  const xmm1 = fillImage(rng, srcKind, 16, srcKind === dstKind ? xmm0 : undefined);
  const imm8 = randomImm8(rng, form.mnemonic);
  const gprSrc = form.src === 'gpr' ? intOperand(rng, form.gprBytes ?? 4) : rng.u64();
  const native: OracleCase = {
    code: encode(key, form, imm8), mxcsr: randomMxcsr(rng), xmm0, xmm1,
    mm0: rng.u64(), mm1: form.src === 'mmx' ? toBig(fillImage(rng, 'int', 8), 8) : rng.u64(),
    rax: gprSrc, flags: (rng.int(0x1000) & COMIS_EFLAGS_MASK) | 2,
  };
  return { key, form, imm8, native };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Empty when the handler agrees with the CPU, else what differs. */
function compare(c: Case, r: OracleResult): string {
  const n = c.native;
  const dst = c.form.dst === 'xmm' ? n.xmm0 : c.form.dst === 'mmx' ? fromBig(n.mm0) : fromBig(n.rax);
  const src = c.form.src === 'xmm' ? n.xmm1 : c.form.src === 'mmx' ? fromBig(n.mm1) : fromBig(n.rax);
  const out = new Uint8Array(16);
  const raised = c.form.run({ mxcsr: n.mxcsr }, dst, src, c.imm8, out);
  const mxcsr = n.mxcsr | raised;
  const fault = (raised & unmaskedExceptions(n.mxcsr)) !== 0;
  if (r.kind === 'other') return `cpu: ${r.what}`;
  const diffs: string[] = [];
  if (r.mxcsr !== mxcsr) diffs.push(`mxcsr cpu ${r.mxcsr.toString(16)} ours ${mxcsr.toString(16)}`);
  if (r.kind === 'xm') {
    if (!fault) diffs.push(`cpu raised #XM, ours did not (out ${hex(out)})`);
    if (hex(r.xmm0) !== hex(n.xmm0)) diffs.push('cpu changed xmm0 on #XM');
    return diffs.join('; ');
  }
  if (fault) diffs.push('ours raised #XM, cpu did not');
  if (c.form.writes === 'eflags') {
    const want = ((n.flags & ~COMIS_EFLAGS_MASK) | out[0] | (out[1] << 8)) & 0xcd5;   // the oracle reports arithmetic flags and DF
    if (r.flags !== want) diffs.push(`eflags cpu ${r.flags.toString(16)} ours ${want.toString(16)}`);
  } else if (c.form.dst === 'xmm') {
    if (hex(r.xmm0) !== hex(out)) diffs.push(`xmm0 cpu ${hex(r.xmm0)} ours ${hex(out)}`);
  } else if (c.form.dst === 'mmx') {
    if (r.mm0 !== toBig(out, 8)) diffs.push(`mm0 cpu ${r.mm0.toString(16)} ours ${toBig(out, 8).toString(16)}`);
  } else {
    const want = toBig(out, c.form.gprBytes ?? 4);
    if (r.rax !== want) diffs.push(`rax cpu ${r.rax.toString(16)} ours ${want.toString(16)}`);
  }
  return diffs.join('; ');
}

test('SSE float semantics match this CPU (native differential)', (t) => {
  const why = oracleUnavailable();
  if (why) { t.skip(why); return; }
  const seed = testSeed();
  const rng = new Rng(seed);
  const forms = [...SSE_FLOAT_FORMS];
  const cases: Case[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const [key, form] = forms[i % forms.length];
    cases.push(makeCase(rng, key, form));
  }
  const results = runOracle(cases.map((c) => c.native));
  const bad = new Map<string, number>();
  const samples: string[] = [];
  cases.forEach((c, i) => {
    const d = compare(c, results[i]);
    if (!d) return;
    bad.set(c.form.mnemonic, (bad.get(c.form.mnemonic) ?? 0) + 1);
    if (samples.length < 30) {
      const n = c.native;
      samples.push(`${c.form.mnemonic} imm ${c.imm8.toString(16)} mxcsr ${n.mxcsr.toString(16)} xmm0 ${hex(n.xmm0)} xmm1 ${hex(n.xmm1)} rax ${n.rax.toString(16)} mm1 ${n.mm1.toString(16)}: ${d}`);
    }
  });
  const total = [...bad.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, 0, `seed ${seed}: ${total} of ${cases.length} cases differ (${[...bad].map(([m, k]) => `${m} ${k}`).join(', ')})\n${samples.join('\n')}`);
});
