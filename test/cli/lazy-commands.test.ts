/**
 * The CLI loads only the command it runs (src/cli/main.ts): `tsvisor run` must not load the soft
 * CPU on the main thread (its vCPU worker does), nor must the monitor's launcher through
 * stopVcpu. Checked with a module hook that replaces the soft CPU's module by one that throws
 * (soft-cpu-absent-register.ts, module-stub-hooks.ts): `run --help` and the launcher still load,
 * and a command that does need the CPU (identify --backend soft) fails, which shows the hook is
 * in place. (`--version` loads every command, so it would load the CPU too.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support.js';

const register = new URL('./soft-cpu-absent-register.js', import.meta.url).href;
const tsvisor = (args: string[]) => spawnSync(process.execPath, ['--import', register, join(REPO, 'bin', 'tsvisor.js'), ...args],
  { encoding: 'utf8', timeout: 60_000 });

test('tsvisor run --help does not load the soft CPU', () => {
  const r = tsvisor(['run', '--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--kernel/);
});

test('the monitor launcher (stopVcpu included) does not load the soft CPU', () => {
  const r = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e',
    `await import(${JSON.stringify(join(REPO, 'dist', 'src', 'vmm', 'core', 'launcher.js'))});`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
});

test('with the hook in place, a command that needs the soft CPU fails to load it', () => {
  const r = tsvisor(['identify', '--backend', 'soft']);
  assert.notEqual(r.status, 0);
  // Its importers fail to link against the stand-in (no exports) before it can throw.
  assert.match(r.stderr, /cpu\.js/);
});
