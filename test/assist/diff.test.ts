/**
 * The seeded differential test in the suite: a few hundred random instances of the supported
 * forms, half in 64-bit mode and half in 32-bit code (compatibility mode), native on RAM at CPL3
 * under KVM vs assistMem against MMIO (see diff/diff-machine.ts).
 * The long run (>= 10^5 cases) is scripts/assist-diff.ts. TSVISOR_SEED overrides the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessKvm } from '../support.js';
import { DiffMachine } from './diff/diff-machine.js';
import { generateCase } from './diff/encoder.js';
import { FORMS } from './diff/forms.js';
import { Rng } from './seeded.js';

const SEED = process.env.TSVISOR_SEED ? Number(process.env.TSVISOR_SEED) : 0xa55157;
const CASES = 600;

test(`assistMem agrees with the CPU on ${CASES} random instructions (seed ${SEED})`, { skip: skipUnlessKvm() }, () => {
  const rng = new Rng(SEED);
  const m = new DiffMachine();
  const seen = new Set<string>();
  const bad: string[] = [];
  try {
    for (let i = 0; i < CASES; i++) {
      const c = generateCase(rng, i % 2 ? 32 : 64);
      seen.add(`${c.mode} ${c.form.name}`);
      for (const x of m.run(c)) bad.push(`case ${i}: ${x.desc}: ${x.what}`);
    }
  } finally {
    m.close();
  }
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} mismatches (seed ${SEED})`);
  assert.ok(seen.size > FORMS.length * 2 * 0.8, `only ${seen.size} of ~${FORMS.length * 2} mode/form pairs drawn`);
});
