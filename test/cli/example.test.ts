// examples/calc.ts is the library example the README points to: it must keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support.js';
import { BACKEND_NAMES, backendSkip } from '../frontend/real-backends.js';

const EXAMPLE = join(REPO, 'dist', 'examples', 'calc.js');
const run = (args: string[], backend?: string) => spawnSync(process.execPath, [EXAMPLE, ...args], {
  encoding: 'utf8', env: { ...process.env, TSVISOR_BACKEND: backend ?? '' },
});

for (const name of BACKEND_NAMES) {
  test(`examples/calc.js on ${name}`, { skip: backendSkip(name, 'the calc example') }, () => {
    const r = run(['3', '5'], name);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, `Result: 8 (backend ${name})\n`);
  });
}

test('examples/calc.js refuses operands that are not uint32', () => {
  const r = run(['3', '0x100000000']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage/);
});
