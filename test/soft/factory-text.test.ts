/**
 * A compiled block's factory (block-compile.ts factoryText) binds only the free names its
 * function uses: each of its instructions' closures and objects, and the block helpers, would
 * otherwise be parsed and loaded for every block (most blocks use a few of ~80 helpers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { factoryText } from '../../src/backends/soft/block-compile.js';
import { BLOCK_HELPERS } from '../../src/backends/soft/block-inline.js';

test('a block factory binds exactly the closures, instructions and helpers its function names', () => {
  const fn = 'function block(cpu, budget) { f1(cpu); const t = I1.length; return ADD4 + half.hi + TLB_MASK + t; }';
  const text = factoryText(fn, [['f0', 'fns[0]'], ['I0', 'insns[0]'], ['f1', 'fns[1]'], ['I1', 'insns[1]']]);
  const bound = [...text.matchAll(/^const (\S+) = /gm)].map((m) => m[1]);
  assert.deepEqual(bound.sort(), ['ADD4', 'I1', 'TLB_MASK', 'f1', 'half'].sort());
  assert.ok(text.endsWith(`return ${fn};`));
  for (const name of ['ADD4', 'half', 'TLB_MASK']) assert.ok(name in BLOCK_HELPERS, `${name} is a block helper`);
});

test('the factory text runs: its function sees the bound values', () => {
  const fn = 'function block() { return f0() + I0.n + TLB_MASK; }';
  const text = factoryText(fn, [['f0', 'fns[0]'], ['I0', 'insns[0]']]);
  const make = new Function('fns', 'insns', 'helpers', text) as (f: unknown, i: unknown, h: unknown) => () => number;
  const mask = (BLOCK_HELPERS as Record<string, unknown>)['TLB_MASK'] as number;
  assert.equal(make([() => 1], [{ n: 2 }], BLOCK_HELPERS)(), 3 + mask);
});
