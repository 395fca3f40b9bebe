// Runs every compiled benchmark (dist/bench/*.bench.js) in turn; each prints JSON lines
// {"figure","tsvisor","reference","unit","ratio"}.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const only = process.argv.slice(2);
let failed = 0;
for (const name of readdirSync('dist/bench').filter((n) => n.endsWith('.bench.js')).sort()) {
  if (only.length && !only.some((s) => name.includes(s))) continue;
  const r = spawnSync(process.execPath, [`dist/bench/${name}`], { stdio: 'inherit' });
  if (r.status !== 0) { console.error(`bench ${name} failed (exit ${r.status})`); failed++; }
}
process.exit(failed ? 1 : 0);
