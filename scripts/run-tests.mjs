// Runs every compiled test file (dist/test/**/*.test.js) with node:test.
// Node 20's --test takes no globs, so the file list is gathered here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
// A compiled test whose source is gone (renamed or deleted since the last build) is not run.
const hasSource = (f) => existsSync(f.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts'));
const all = collect('dist/test');
const stale = all.filter((f) => !hasSource(f));
for (const f of stale) console.log(`# run-tests: not running ${f}: its source is gone (stale build output)`);
let files = all.filter(hasSource);
if (filter.length) files = files.filter((f) => filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test (did the build run?)');
  process.exit(1);
}
// A guest that never exits blocks its test's thread inside run(), where no in-process timer can fire;
// the runner's timeout kills such a file's process, so a hang is a visible failure, not a stuck CI.
const timeoutMs = Number(process.env.TSVISOR_TEST_TIMEOUT_MS ?? 450_000);
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', `--test-timeout=${timeoutMs}`, ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
