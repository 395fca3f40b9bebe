// Random-instruction differential run, soft CPU vs KVM at CPL3 (see test/conformance/random-diff.ts).
// Usage: npm run build && node scripts/soft-diff.mjs [instructions=100000] [seed] [blockLen=100] [mode=64|32]
// (mode 32: compatibility mode, a 32-bit CPL3 code segment under long mode)
// Prints one line per mismatch class (template) and a JSON summary; exit 1 on any mismatch.
import { DiffRunner, differential, hostSkips } from '../dist/test/conformance/random-diff.js';
import { cpuVendor } from '../dist/test/native-oracle-build.js';

const total = Number(process.argv[2] ?? 100000);
const seed = Number(process.argv[3] ?? (Date.now() >>> 0));
const len = Number(process.argv[4] ?? 100);
const mode = Number(process.argv[5] ?? 64) === 32 ? 32 : 64;
// TSVISOR_DIFF_ALL=1 keeps the forms this host's KVM emulator lacks in 32-bit blocks and, on a
// non-AMD host, the forms whose undefined flags follow AMD.
const skip = process.env.TSVISOR_DIFF_ALL ? undefined : hostSkips(mode, cpuVendor());
const soft = new DiffRunner('soft');
const kvm = new DiffRunner('kvm');
const started = Date.now();
const all = [];
let done = 0;
for (let s = seed; done < total; s++) {
  const r = differential(soft, kvm, s >>> 0, 50, len, mode, skip);
  done += r.instructions;
  all.push(...r.mismatches);
}
soft.close();
kvm.close();
const classes = new Map();
for (const m of all) {
  const cls = m.instruction.split(':')[0];
  if (!classes.has(cls)) classes.set(cls, m);
}
for (const [cls, m] of classes) console.log(`MISMATCH ${cls}: ${m.instruction} seed ${m.seed} block ${m.block}: ${m.diff.join('; ')}`);
console.log(JSON.stringify({ mode, instructions: done, firstSeed: seed, mismatches: all.length, classes: classes.size, seconds: (Date.now() - started) / 1000 }));
process.exit(all.length ? 1 : 0);
