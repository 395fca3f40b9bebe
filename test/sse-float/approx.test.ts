/**
 * RCPPS/RSQRTPS against this CPU, exhaustively over the table index: every 12-bit fraction prefix
 * (with random low bits) under both exponent parities and a spread of exponents, plus the special
 * operands. The tables are the reference AMD CPU's: another vendor's CPU is a skip (see oracle.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSE_FLOAT_FORMS } from '../../src/x86/sse/float/index.js';
import { Rng, testSeed } from '../exec/rng.js';
import { oracleUnavailable, runOracle, type OracleCase } from './oracle.js';

function image(lanes: number[]): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  lanes.forEach((v, i) => dv.setUint32(4 * i, v >>> 0, true));
  return b;
}

test('RCPPS/RSQRTPS match this CPU for every table entry and special operand', (t) => {
  const why = oracleUnavailable();
  if (why) { t.skip(why); return; }
  const seed = testSeed();
  const rng = new Rng(seed);
  const operands: number[] = [0, 0x80000000, 1, 0x807fffff, 0x7f800000, 0xff800000, 0x7f800001, 0xffc00123, 0x7f7fffff, 0x00800000,
    0x7e800000, 0x7e7fffff, 0xfe800000, 0x01000000, 0x80800000, 0x3f800000, 0xbf800000];
  for (let k = 0; k < 4096; k++) {
    for (const e of [126, 127]) operands.push((e << 23) | (k << 11) | rng.int(2048));
    operands.push(((1 + rng.int(254)) << 23) | (k << 11) | rng.int(2048) | (rng.int(8) === 0 ? 0x80000000 : 0));
  }
  const cases: { key: string; native: OracleCase }[] = [];
  for (const [key, code] of [[':1:53', [0x0f, 0x53, 0xc1]], [':1:52', [0x0f, 0x52, 0xc1]]] as const) {
    for (let i = 0; i < operands.length; i += 4) {
      cases.push({ key, native: {
        code: Uint8Array.from(code), mxcsr: rng.int(4) << 13 | (rng.int(2) ? 0x8040 : 0) | (rng.int(2) ? 0x1f80 : 0),
        xmm0: image([rng.int(2 ** 32), rng.int(2 ** 32), rng.int(2 ** 32), rng.int(2 ** 32)]),
        xmm1: image(operands.slice(i, i + 4).concat([0, 0, 0]).slice(0, 4)), mm0: 0n, mm1: 0n, rax: 0n, flags: 2,
      } });
    }
  }
  const results = runOracle(cases.map((c) => c.native));
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const r = results[i];
    const out = new Uint8Array(16);
    const raised = SSE_FLOAT_FORMS.get(c.key)!.run({ mxcsr: c.native.mxcsr }, c.native.xmm0, c.native.xmm1, 0, out);
    const got = Buffer.from(out).toString('hex');
    if (r.kind !== 'ok' || r.mxcsr !== c.native.mxcsr || raised !== 0 || Buffer.from(r.xmm0).toString('hex') !== got) {
      bad.push(`${c.key} src ${Buffer.from(c.native.xmm1).toString('hex')}: cpu ${JSON.stringify(r.kind === 'ok' ? [r.mxcsr.toString(16), Buffer.from(r.xmm0).toString('hex')] : r)} ours ${raised} ${got}`);
    }
  });
  assert.equal(bad.length, 0, `seed ${seed}: ${bad.length} of ${cases.length} differ\n${bad.slice(0, 20).join('\n')}`);
});
