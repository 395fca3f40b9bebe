/**
 * Where code generation from strings is disallowed (node --disallow-code-generation-from-strings,
 * as some embedders and CSP-like policies do) the soft CPU still runs everything, slower: no
 * block becomes a generated function, the per-instruction forms fall back to plain closures.
 * Runs the tier differential fuzz and the compiled-block tests in a child process with that flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support.js';

function runWithoutCodegen(file: string, env: Record<string, string> = {}): string {
  // Without the runner's context variable the child reports in plain TAP, not to this runner.
  const { NODE_TEST_CONTEXT: _runner, ...parentEnv } = process.env;
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', join(REPO, 'dist', 'test', 'soft', file)], {
    encoding: 'utf8', timeout: 120_000, env: { ...parentEnv, ...env },
  });
  assert.equal(r.status, 0, `${file} without code generation: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('without code generation from strings, the tiers still agree on random programs', () => {
  const out = runWithoutCodegen('block-diff-fuzz.test.js', { TSVISOR_BLOCK_FUZZ: '45' });
  assert.match(out, /45 cases, \d+ instructions each tier, 0 blocks compiled/);
});

test('without code generation from strings, the block tests (SMC, inline SMC, SYSCALL, P4 loop, REP fault) pass', () => {
  const out = runWithoutCodegen('blocks.test.js');
  assert.match(out, /# pass 5\b/);
  assert.match(out, /# fail 0\b/);
});
