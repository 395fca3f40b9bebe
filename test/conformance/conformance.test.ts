/**
 * Conformance: every guest program in guests/conf-*.S runs on every backend usable here, through
 * the public API; final registers, memory ranges and the port log must be identical. The soft
 * backend is the reference; the KVM half is skipped visibly when /dev/kvm is unusable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support.js';
import { backendSkip } from '../frontend/real-backends.js';
import { diffResults, runGuest, type GuestResult } from './harness.js';
import { CONFORMANCE_GUESTS } from './guests.js';

test('every guests/conf-*.S is in the conformance list', () => {
  const sources = readdirSync(join(REPO, 'guests')).filter((f) => /^conf-.*\.S$/.test(f)).map((f) => f.slice(0, -2)).sort();
  assert.deepEqual(CONFORMANCE_GUESTS.map((g) => g.name).sort(), sources);
});

for (const spec of CONFORMANCE_GUESTS) {
  let soft: GuestResult | undefined;
  test(`${spec.name}: runs to completion on soft`, () => {
    soft = runGuest('soft', spec);
    assert.ok(soft.exits >= 1);
  });
  test(`${spec.name}: kvm matches soft`, { skip: backendSkip('kvm', `conformance ${spec.name}`) }, () => {
    const kvm = runGuest('kvm', spec);
    assert.ok(soft, 'the soft run failed');
    assert.deepEqual(diffResults(soft, kvm, spec), []);
  });
}
