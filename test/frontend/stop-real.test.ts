// stopVcpu(handle) reaches the right backend, from this thread and from a worker, repeatedly:
// each stop makes the next run() return 'stopped' before the guest executes, and the guest then
// still runs to its halt. Each backend runs in a child with a time limit, so a run() that never
// returns fails this test instead of hanging the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTempRundir } from './fake-backend.js';
import { BACKEND_NAMES, backendSkip } from './real-backends.js';

useTempRundir();
const CHILD = fileURLToPath(new URL('./stop-child.js', import.meta.url));
const LIMIT_MS = 20_000;

for (const name of BACKEND_NAMES) {
  test(`${name}: stopVcpu(handle) twice from this thread, then from a worker`, { skip: backendSkip(name, 'stopVcpu dispatch') }, () => {
    const r = spawnSync(process.execPath, [CHILD, name], { encoding: 'utf8', timeout: LIMIT_MS });
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    const steps = lines.length ? JSON.parse(lines.at(-1)!) as string[] : [];
    const expected = ['here:stopped', 'here-again:stopped', 'worker:stopped', 'last:halted:rbx=3'];
    if (r.signal) assert.fail(`child killed by ${r.signal} after ${LIMIT_MS} ms (a run() that never returned?) after steps ${JSON.stringify(steps)}; stderr: ${r.stderr}`);
    assert.deepEqual(steps, expected, r.stderr);
    assert.equal(r.status, 0, r.stderr);
  });
}
