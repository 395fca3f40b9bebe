// Without a working /dev/kvm, 'auto' must fall back to the soft CPU and calc must still work.
// Where KVM is really unusable the commands run as they are; where it works, its absence is
// simulated by bind-mounting an empty file over /dev/kvm in a private mount namespace (needs
// root and unshare; skipped visibly elsewhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendSkip } from '../frontend/real-backends.js';
import { BIN } from './run-cli.js';
import { kvmUnavailableReason } from '../support.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-nokvm-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const fakeKvm = join(dir, 'not-kvm');
const NODE = `${process.execPath} ${BIN}`;
writeFileSync(fakeKvm, '');

const kvmAbsent = kvmUnavailableReason();
if (kvmAbsent) console.log(`# no-KVM fallback runs for real: ${kvmAbsent}`);

/** Runs a shell command where /dev/kvm is unusable (really, or replaced by an empty file), or returns why it cannot. */
function withoutKvm(cmd: string): { out: string; status: number | null } | string {
  const env = { ...process.env, TSVISOR_BACKEND: '' };
  const r = kvmAbsent
    ? spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env })
    : spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${fakeKvm} /dev/kvm && ${cmd}`], { encoding: 'utf8', env });
  if (r.error) return `unshare not available (${r.error.message})`;
  if (/unshare:|mount:/.test(r.stderr)) return `cannot make a private mount namespace here: ${r.stderr.trim().split('\n')[0]}`;
  return { out: r.stdout + r.stderr, status: r.status };
}

const probe = withoutKvm('true');
const skip = typeof probe === 'string' ? probe : backendSkip('soft', 'the no-KVM fallback');
if (typeof probe === 'string') console.log(`# SKIP no-KVM fallback: ${probe}`);

test('with /dev/kvm unusable, auto picks soft: identify says so and calc prints the sum', { skip }, () => {
  const r = withoutKvm(`${NODE} identify && ${NODE} calc 3 5 && ${NODE} calc 3 5 --backend kvm`);
  assert.ok(typeof r !== 'string');
  assert.match(r.out, /^tsvisor: Backend soft$/m);
  assert.match(r.out, /^Result: 8$/m);
  assert.match(r.out, /^tsvisor calc: ENODEV: .*kvm/m, 'an explicit kvm choice fails with ENODEV instead of falling back');
  assert.equal(r.status, 1);
});

test('with the KVM backend module failing to load (no glibc), tsvisor still works on soft', { skip: backendSkip('soft', 'the KVM-load-failure fallback') }, () => {
  const register = new URL('./kvm-load-failure-register.js', import.meta.url).href;
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', register, BIN, ...args], { encoding: 'utf8', env: { ...process.env, TSVISOR_BACKEND: '' } });
  const calc = run(['calc', '3', '5']);
  assert.equal(calc.stdout, 'Result: 8\n', calc.stderr);
  assert.match(run(['identify']).stdout, /^tsvisor: Backend soft$/m);
  const kvm = run(['identify', '--backend', 'kvm']);
  assert.equal(kvm.status, 1);
  // the stub fails at link time (missing exports) or at evaluation: either way the module does not load
  assert.match(kvm.stderr, /^tsvisor identify: ENODEV: kvm backend module does not load here: .*(simulated|libc)/);
  assert.equal(kvm.stderr.split('\n').length, 2, 'one line');
});
