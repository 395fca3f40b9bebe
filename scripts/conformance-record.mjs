// Records test/conformance/expected.json: runs every conformance guest on kvm and on soft (after
// `npm run build && npm run guests`), and writes their fingerprint only when both backends agree.
// Needs a usable /dev/kvm. Run it after changing a guests/conf-*.S, and commit the result.
import { writeFileSync } from 'node:fs';
import { CONFORMANCE_GUESTS } from '../dist/test/conformance/guests.js';
import { diffResults, runGuest } from '../dist/test/conformance/harness.js';
import { EXPECTED_PATH, fingerprint } from '../dist/test/conformance/fingerprint.js';

const out = {};
let disagreements = 0;
for (const spec of CONFORMANCE_GUESTS) {
  const soft = runGuest('soft', spec);
  const kvm = runGuest('kvm', spec);
  const diff = diffResults(soft, kvm, spec);
  if (diff.length) {
    console.error(`${spec.name}: kvm and soft disagree, not recorded:\n  ${diff.join('\n  ')}`);
    disagreements++;
    continue;
  }
  out[spec.name] = fingerprint(kvm);
  console.log(`${spec.name}: recorded (${kvm.exits} exits)`);
}
if (disagreements) process.exit(1);
writeFileSync(EXPECTED_PATH, JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${EXPECTED_PATH}`);
