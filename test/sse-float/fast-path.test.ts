/**
 * The double fast path (src/x86/sse/float/fast.ts) against the exact bigint path, in process:
 * random lanes in every rounding mode, where the fast path claims a lane its result and flags must
 * equal the exact ones. (The native differential test covers both against the CPU; this one hits
 * the fast path's own boundaries far more often.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADD, DIV, MUL, SQRT, SUB, type BinaryOp } from '../../src/x86/sse/float/arith.js';
import { FpContext } from '../../src/x86/sse/float/context.js';
import { FastOp, fastBinary } from '../../src/x86/sse/float/fast.js';
import { F32, F64 } from '../../src/x86/sse/float/format.js';
import { getLane, setLane } from '../../src/x86/sse/float/image.js';
import { Rng, testSeed } from '../exec/rng.js';
import { floatOperand, relatedOperand } from './operands.js';

const OPS: readonly [FastOp, BinaryOp, string][] = [
  [FastOp.Add, ADD, 'add'], [FastOp.Sub, SUB, 'sub'], [FastOp.Mul, MUL, 'mul'], [FastOp.Div, DIV, 'div'], [FastOp.Sqrt, SQRT, 'sqrt'],
];

test('the double fast path agrees with exact arithmetic wherever it applies', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const a = new Uint8Array(16), b = new Uint8Array(16), out = new Uint8Array(16);
  let claimed = 0;
  const bad: string[] = [];
  for (let n = 0; n < 200000; n++) {
    const f = rng.int(2) ? F32 : F64;
    const [fast, exact, name] = rng.pick(OPS);
    const x = floatOperand(rng, f), y = relatedOperand(rng, f, x);
    setLane(a, f, 0, x);
    setLane(b, f, 0, y);
    const mxcsr = 0x1f80 | (rng.int(4) << 13) | (rng.int(2) ? 0x8040 : 0);
    const ctxFast = new FpContext(mxcsr);
    if (!fastBinary(ctxFast, f, fast, a, 0, b, 0, out, 0)) continue;
    claimed++;
    const ctxExact = new FpContext(mxcsr);
    const want = exact(ctxExact, f, x, y);
    const got = getLane(out, f, 0);
    if (got !== want || ctxFast.raised() !== ctxExact.raised()) {
      bad.push(`${name} ${f.name} mxcsr ${mxcsr.toString(16)} ${x.toString(16)} ${y.toString(16)}: fast ${got.toString(16)}/${ctxFast.raised()} exact ${want.toString(16)}/${ctxExact.raised()}`);
    }
  }
  assert.ok(claimed > 50000, `the fast path took only ${claimed} lanes`);
  assert.equal(bad.length, 0, `seed ${seed}: ${bad.length} differ\n${bad.slice(0, 20).join('\n')}`);
});
