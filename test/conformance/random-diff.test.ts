/**
 * The seeded random-instruction differential run of the suite: soft vs KVM at CPL3 (a few
 * thousand instructions; scripts/soft-diff.mjs runs 10^5 and more). TSVISOR_SEED replays a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendSkip } from '../frontend/real-backends.js';
import { testSeed } from '../exec/rng.js';
import { cpuVendor } from '../native-oracle-build.js';
import { AMD_UNDEFINED_FORMS, DiffRunner, differential, hostSkips } from './random-diff.js';

const vendor = cpuVendor();
if (vendor !== 'AuthenticAMD') {
  console.log(`# random differential on ${vendor || 'an unknown vendor'}: forms left out (their undefined flags follow AMD): ${AMD_UNDEFINED_FORMS.source}`);
}

test('random CPL3 instruction blocks: soft matches KVM', { skip: backendSkip('kvm', 'random differential') }, () => {
  const seed = testSeed();
  const soft = new DiffRunner('soft');
  const kvm = new DiffRunner('kvm');
  try {
    const r = differential(soft, kvm, seed, 40, 100, 64, hostSkips(64, vendor));
    assert.ok(r.instructions > 1000, `only ${r.instructions} instructions ran`);
    console.log(`# random differential: seed ${seed}, ${r.instructions} instructions, ${r.mismatches.length} mismatches`);
    assert.deepEqual(r.mismatches, [], `seed ${seed} (replay with TSVISOR_SEED=${seed})`);
  } finally {
    soft.close();
    kvm.close();
  }
});

test('random compatibility-mode (32-bit CPL3) blocks: soft matches KVM', { skip: backendSkip('kvm', 'random differential (compat)') }, () => {
  const seed = testSeed();
  const soft = new DiffRunner('soft');
  const kvm = new DiffRunner('kvm');
  try {
    const r = differential(soft, kvm, seed, 20, 50, 32, hostSkips(32, vendor));
    assert.ok(r.instructions > 300, `only ${r.instructions} instructions ran`);
    assert.deepEqual(r.mismatches, [], `seed ${seed} (replay with TSVISOR_SEED=${seed})`);
  } finally {
    soft.close();
    kvm.close();
  }
});
