/**
 * The README's main job end to end: `node scripts/boot-linux.mjs` boots the Debian test guest to
 * its shell, types the commands and powers off with exit code 0. On the soft backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BOOT_LIMIT_MS, bootSkip as skip } from './linux-boot.js';

const SCRIPT = join(new URL('../../..', import.meta.url).pathname, 'scripts', 'boot-linux.mjs');

test('scripts/boot-linux.mjs (npm run linux) boots to a shell, runs its commands there and powers off with 0', { skip, timeout: BOOT_LIMIT_MS + 30_000 }, () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--backend', 'soft'], { encoding: 'latin1', timeout: BOOT_LIMIT_MS });
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}\n${r.stdout.slice(-2000)}`);
  assert.match(r.stdout, /^Linux \S+ 6\.\d+\.\d+-\d+-cloud-amd64 .* x86_64 GNU\/Linux\r?$/m, 'uname -a ran in the guest');
  assert.match(r.stdout, /^model name\s*: tsvisor soft x86-64 CPU\r?$/m);
  assert.match(r.stdout, /^32768\r?\nvirtio_rng\.0\r?$/m, 'the 16 MiB scratch disk and the virtio entropy device');
  assert.match(r.stdout, /^written-by-the-guest\r?$/m, 'the line read back from the disk');
  assert.match(r.stdout, /reboot: Power down/);
  assert.match(r.stderr, /boot-linux: tsvisor exited with 0 after/);
});
