/** `tsvisor run`: a panicking guest ends the run with exit code 2 and the panic line; a reboot with exit code 3 (TSVISOR_LONG_TESTS=1). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOOT_LIMIT_MS, boot, bootSkip as skip } from './linux-boot.js';

test('tsvisor run: a guest panic ends the run with exit code 2 and the panic line', { skip, timeout: BOOT_LIMIT_MS + 10_000 }, async () => {
  const r = await boot([], 'echo c > /proc/sysrq-trigger\n');
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /^tsvisor run: guest panic: Kernel panic - not syncing: [^\n]+\n$/);
});

const long = process.env.TSVISOR_LONG_TESTS === '1' ? false : 'set TSVISOR_LONG_TESTS=1 for the reboot boot';
test('tsvisor run: reboot in the guest ends the run with exit code 3', { skip: skip || long, timeout: BOOT_LIMIT_MS + 10_000 }, async () => {
  const r = await boot([], 'reboot -f\n');
  assert.equal(r.status, 3, `exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr, 'tsvisor run: guest reboot\n');
});
