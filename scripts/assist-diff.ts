/**
 * Differential test of the memory assist against the CPU: N random instances of every supported
 * instruction form, in 64-bit mode and in 32-bit code (compatibility mode, with 16-bit addressing
 * forms), run natively on RAM at CPL3 under KVM and through assistMem against MMIO
 * (test/assist/diff). Prints the mismatch count, the mismatches grouped by form, and a JSON line.
 *
 *   npx tsc -p . && node dist/scripts/assist-diff.js [cases=100000] [seed]
 */
import { DiffMachine, type Mismatch } from '../test/assist/diff/diff-machine.js';
import { generateCase } from '../test/assist/diff/encoder.js';
import { Rng } from '../test/assist/seeded.js';
import { kvmUnavailableReason } from '../test/support.js';

const cases = Number(process.argv[2] ?? 100000);
const seed = Number(process.argv[3] ?? (Date.now() & 0x7fffffff));
const why = kvmUnavailableReason();
if (why) {
  console.log(`assist-diff: SKIP, KVM not usable: ${why}`);
  process.exit(0);
}
const rng = new Rng(seed);
const m = new DiffMachine();
const byForm = new Map<string, Mismatch[]>();
const perForm = new Map<string, number>();
let bad = 0;
const t0 = performance.now();
try {
  for (let i = 0; i < cases; i++) {
    const c = generateCase(rng, rng.below(2) ? 64 : 32);
    const key = `${c.mode}-bit ${c.form.name}`;
    perForm.set(key, (perForm.get(key) ?? 0) + 1);
    const mm = m.run(c);
    if (mm.length) {
      bad++;
      const list = byForm.get(key) ?? [];
      list.push(...mm);
      byForm.set(key, list);
    }
  }
} finally {
  m.close();
}
const secs = (performance.now() - t0) / 1000;
for (const [form, list] of [...byForm].sort((a, b) => b[1].length - a[1].length)) {
  console.log(`${form}: ${list.length} mismatches in ${perForm.get(form)} cases; e.g.`);
  for (const x of list.slice(0, 3)) console.log(`    ${x.desc}: ${x.what}`);
}
console.log(`assist-diff: seed ${seed}, ${cases} cases, ${perForm.size} mode/form pairs, ${bad} mismatching cases, ${secs.toFixed(1)} s`);
console.log(JSON.stringify({ figure: 'assist-diff mismatches', tsvisor: bad, reference: 0, unit: 'cases', ratio: cases ? bad / cases : 0 }));
process.exit(bad ? 1 : 0);
