/**
 * pooled-locals.ts: statement groups run the same after their declarations became pooled
 * assignments (shadowing, several declarators, commas inside calls, property names that equal
 * declared names, a name declared in one group and an outer name of the same spelling).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poolLocals } from '../../src/backends/soft/pooled-locals.js';

const GROUPS = [
  // Shadowing: the inner r is another variable; out.r is a property.
  '{ const r = x + 1; { const r = 100, s = Math.max(r, 7); out.r = r + s; } out.a = r; }',
  // Several declarators, a comma inside a call in an initializer, a bare let assigned later.
  '{ let v; const a = Math.min(x, 3), b = a * 2; v = a + b; out.b = v; }',
  // Names of the previous groups again: the pool is reused, values do not leak.
  '{ const a = 5; let r; if (a > x) r = a; else r = x; out.c = r + y; }',
  // A name that is not declared here (y) stays the function's.
  '{ const y2 = y * 2; y = y2; out.y = y; }',
];

function run(groups: readonly string[], pool: readonly string[]): Record<string, number> {
  const text = `let y = 4; const out = {}; ${pool.length ? `let ${pool.join(', ')};` : ''} ${groups.join('\n')} return out;`;
  return (new Function('x', text) as (x: number) => Record<string, number>)(2);
}

test('pooled groups compute what the original groups compute', () => {
  const { groups, pool } = poolLocals(GROUPS);
  assert.deepEqual(run(groups, pool), run(GROUPS, []));
  assert.equal(pool.length, 3, 'the pool is the largest group\'s declarations (r, r, s; or v, a, b)');
  for (const g of groups) assert.doesNotMatch(g, /\b(const|let)\b/);
});

test('a declarator without an initializer starts undefined, not with what its pooled name held before', () => {
  const { groups, pool } = poolLocals(['{ const a = 7; out.a = a; }', '{ let b, c = 2; out.b = b; out.c = c; }']);
  assert.deepEqual(run(groups, pool), { a: 7, b: undefined, c: 2 });
  assert.match(groups[1]!, /\$t0 = undefined, \$t1 = 2/);
});

test('a declaration outside the group\'s braces is refused (its name would leak into the next group)', () => {
  assert.throws(() => poolLocals(['const a = 1;']), /declared outside braces/);
});

test('tokens pass through as written: hex and exponent numbers, names with $ and digits, tabs and newlines', () => {
  const src = '{ const a = 0x1f + 1.5e3, $b2 = a\t*\n2; const c3 = out.a = $b2 + 0xffffffff; out.b = c3 >>> 0; out.c = a; }';
  const { groups, pool } = poolLocals([src]);
  assert.deepEqual(run(groups, pool), run([src], []));
  assert.match(groups[0]!, /\$t0 = 0x1f \+ 1\.5e3, \$t1 = \$t0\t\*\n2;/);
  assert.match(groups[0]!, /out\.a = \$t1 \+ 0xffffffff/, 'a property named like a declared name stays a property');
});
