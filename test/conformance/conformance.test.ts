/**
 * Conformance: every guest program in guests/conf-*.S runs on every backend usable here, through
 * the public API; final registers, memory ranges and the port log must be identical. The soft
 * backend is the reference; the KVM half is skipped visibly when /dev/kvm is unusable, and the soft
 * half is also compared with test/conformance/expected.json, recorded where KVM and soft agreed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support.js';
import { backendSkip } from '../frontend/real-backends.js';
import { diffResults, runGuest, type GuestResult } from './harness.js';
import { CONFORMANCE_GUESTS } from './guests.js';
import { fingerprint, recordedFingerprints } from './fingerprint.js';

const RECORDED = recordedFingerprints();

test('every guests/conf-*.S is in the conformance list, with a result recorded from hardware', () => {
  const sources = readdirSync(join(REPO, 'guests')).filter((f) => /^conf-.*\.S$/.test(f)).map((f) => f.slice(0, -2)).sort();
  assert.deepEqual(CONFORMANCE_GUESTS.map((g) => g.name).sort(), sources);
  assert.deepEqual(Object.keys(RECORDED).sort(), sources, 'test/conformance/expected.json (scripts/conformance-record.mjs)');
});

for (const spec of CONFORMANCE_GUESTS) {
  let soft: GuestResult | undefined;
  test(`${spec.name}: runs to completion on soft, as recorded from hardware`, () => {
    soft = runGuest('soft', spec);
    assert.ok(soft.exits >= 1);
    // Checked on every machine, KVM or not: the result KVM and soft agreed on when recorded.
    assert.deepEqual(fingerprint(soft), RECORDED[spec.name], `${spec.name} on soft differs from test/conformance/expected.json (re-record with scripts/conformance-record.mjs only if the guest changed)`);
  });
  test(`${spec.name}: kvm matches soft`, { skip: backendSkip('kvm', `conformance ${spec.name}`) }, () => {
    const kvm = runGuest('kvm', spec);
    assert.ok(soft, 'the soft run failed');
    assert.deepEqual(diffResults(soft, kvm, spec), []);
  });
}
