/**
 * helper-inline.ts: which helper shapes it takes, and that an inlined call computes what the call
 * does (the compiled-block fuzz tests check every inlined form against the interpreter tier).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineCall, parseHelper } from '../../src/backends/soft/helper-inline.js';
import { INLINED } from '../../src/backends/soft/block-inline.js';
import { inlineNested } from '../../src/backends/soft/helper-inline.js';

const SCOPE = new Set(['K', 'out', 'good', 'noReturn', 'twoReturns', 'scaled']);
const K = 3;
const out = { hi: 0 };

function good(ctx: { v: number }, a: number, b: number): number {
  const r = (a + b * K) | 0;
  let t;
  if (r < 0) t = -r; else t = r;
  ctx.v = t; out.hi = a;
  return r ^ t;
}
function twoReturns(a: number): number {
  if (a < 0) return 0;
  return a;
}
function unknownName(a: number): number {
  return a + UNKNOWN;
}
const UNKNOWN = 1;
function noReturn(ctx: { v: number }, a: number): void {
  ctx.v = a * K;
}

test('parseHelper takes one-exit helpers whose names are all known, and refuses the rest', () => {
  const g = parseHelper(good, SCOPE);
  assert.ok(g, 'good is inlinable');
  assert.deepEqual(g.params, ['ctx', 'a', 'b']);
  assert.equal(g.result, 'r ^ t');
  assert.equal(parseHelper(twoReturns, SCOPE), undefined, 'two returns');
  assert.equal(parseHelper(unknownName, SCOPE), undefined, 'a name outside the scope');
  assert.ok(parseHelper(unknownName, new Set(['UNKNOWN'])), 'the same with the name in scope');
  const n = parseHelper(noReturn, SCOPE);
  assert.ok(n);
  assert.equal(n.result, undefined);
  assert.equal(parseHelper(((a: number) => a) as (...args: never[]) => unknown, SCOPE), undefined, 'arrow function');
});

test('an inlined call computes what the call does, with arguments that reuse the helper\'s names', () => {
  const h = parseHelper(good, SCOPE)!;
  // r, t, a and b are the helper's own names; the caller's r and a must still be read and written.
  const text = `const r = [0, 0], a = -7; ${inlineCall(h, 'good', ['ctx', 'a', 'r[1] + 5'], (v) => `r[0] = ${v};`)} return r[0];`;
  const run = new Function('ctx', 'K', 'out', text) as (ctx: { v: number }, k: number, o: { hi: number }) => number;
  const ctxA = { v: 0 }, ctxB = { v: 0 };
  const inlined = run(ctxA, K, out);
  const outA = out.hi;
  const called = good(ctxB, -7, 5);
  assert.equal(inlined, called);
  assert.equal(ctxA.v, ctxB.v);
  assert.equal(outA, out.hi);
  const fallback = inlineCall(undefined, 'good', ['ctx', '1', '2'], (v) => `x = ${v};`);
  assert.match(fallback, /good\(ctx, 1, 2\)/);
});

test('every helper the block compiler means to inline has the inlinable shape', () => {
  for (const [name, h] of Object.entries(INLINED)) assert.ok(h, `${name}: its body cannot be inlined (a second return, a comment, a name outside its module's inline scope?)`);
});

test('nested calls, inlined or not, read the enclosing call\'s result', () => {
  const h = parseHelper(good, SCOPE)!;
  for (const [outer, inner] of [[h, h], [undefined, undefined], [h, undefined], [undefined, h]] as const) {
    // good(ctx, 2, good(ctx, 1, 4)): the inner result is the outer call's argument.
    const text = `let x; ${inlineCall(inner, 'good', ['ctx', '1', '4'], (v) => inlineCall(outer, 'good', ['ctx', '2', v], (w) => `x = ${w};`))} return x;`;
    const run = new Function('ctx', 'K', 'out', 'good', text) as (ctx: { v: number }, k: number, o: { hi: number }, g: typeof good) => number;
    const ctx = { v: 0 };
    assert.equal(run(ctx, K, out, good), good(ctx, 2, good(ctx, 1, 4)), `outer ${outer ? 'inlined' : 'called'}, inner ${inner ? 'inlined' : 'called'}`);
  }
});

/** Calls good, noReturn and twoReturns as whole statements of each shape inlineNested takes, and once inside an expression. */
function caller(ctx: { v: number }, a: number): number {
  const x = good(ctx, a, 2);
  out.hi = good(ctx, x, a);
  if (a < 0) noReturn(ctx, x); else noReturn(ctx, a);
  let y = twoReturns(x);
  y = y + good(ctx, 1, 1);
  return x ^ y ^ out.hi ^ ctx.v;
}
/** Assigns to its parameter (an inlined copy must declare it with let). */
function scaled(a: number): number {
  a >>>= 1;
  return a * K;
}
function callsScaled(a: number): number {
  const s = scaled(a);
  return s + 1;
}

test('helpers a helper calls as whole statements go in place; other calls stay; the result is the same', () => {
  const known = { good: parseHelper(good, SCOPE), noReturn: parseHelper(noReturn, SCOPE), scaled: parseHelper(scaled, SCOPE) };
  const resolve = (n: string) => (Object.hasOwn(known, n) ? known[n as keyof typeof known] : undefined);
  const h = parseHelper(caller, SCOPE)!;
  const body = inlineNested(h.body, resolve);
  assert.equal(body.match(/\bgood\(/g)?.length, 1, 'the call inside `y + good(...)` stays; the two statement calls go');
  assert.doesNotMatch(body, /noReturn\(/, 'both branches of the if are inlined');
  assert.match(body, /twoReturns\(/, 'a helper resolve() does not know stays a call');
  for (const a of [-5, 0, 3, 1 << 30]) {
    const text = `let r; ${inlineCall(h, 'caller', ['ctx', `${a}`], (v) => `r = ${v};`, resolve)} return r;`;
    const run = new Function('ctx', 'K', 'out', 'good', 'noReturn', 'twoReturns', text) as (...args: unknown[]) => number;
    const ctxA = { v: 0 }, ctxB = { v: 0 };
    const inlined = run(ctxA, K, out, good, noReturn, twoReturns), outA = out.hi;
    assert.equal(inlined, caller(ctxB, a), `a = ${a}`);
    assert.equal(ctxA.v, ctxB.v);
    assert.equal(outA, out.hi);
  }
  const c = parseHelper(callsScaled, SCOPE)!;
  const run = new Function('K', `let r; ${inlineCall(c, 'callsScaled', ['7'], (v) => `r = ${v};`, resolve)} return r;`) as (k: number) => number;
  assert.equal(run(K), callsScaled(7));
});
