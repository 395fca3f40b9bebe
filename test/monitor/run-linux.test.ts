/**
 * `tsvisor run` end to end on the stock Debian cloud kernel and a busybox initramfs
 * (scripts/linux-guest.mjs): the guest loads the distribution's own virtio modules, reads and
 * writes a virtio disk, reads host entropy, and powers off (exit 0); a panicking guest ends the
 * run with exit code 2 and the panic line (run-linux-panic.test.ts). On the soft backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOT_LIMIT_MS, boot, bootSkip as skip } from './linux-boot.js';

test('tsvisor run boots the Debian cloud kernel: its virtio modules drive a disk and the entropy device, poweroff ends it with 0', { skip, timeout: BOOT_LIMIT_MS + 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-run-'));
  try {
    const disk = join(dir, 'disk.img'), ro = join(dir, 'ro.img');
    writeFileSync(disk, 'hello-from-the-host-disk');
    writeFileSync(ro, 'read-only-image');
    for (const f of [disk, ro]) { const fd = openSync(f, 'r+'); ftruncateSync(fd, 4 * 2 ** 20); closeSync(fd); }
    const r = await boot(['--disk', disk, '--disk', `${ro},ro`, '--rng', '--mem', '192M'], [
      'echo DISK:$(head -c 24 /dev/vda)',
      'echo RO:$(cat /sys/block/vdb/ro) $(head -c 15 /dev/vdb)',
      'echo RNG:$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d " \\n")',
      'echo WRITTEN-BY-GUEST | dd of=/dev/vda bs=512 seek=1 conv=sync,fsync 2>/dev/null',
      'echo 4 > /proc/sys/kernel/printk; dd if=/dev/zero of=/dev/vdb bs=512 count=1 2>/dev/null || echo RO-WRITE-REFUSED',
      'poweroff -f', '',
    ].join('\n'));
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}\n${r.stdout.slice(-2000)}`);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /virtio_blk virtio\d: \[vda\] 8192 512-byte logical blocks/);
    assert.match(r.stdout, /tsc: Detected 1000\.000 MHz processor/, 'the TSC rate from CPUID leaves 15H/16H');
    assert.doesNotMatch(r.stdout, /TSC calibration using PIT|Refined TSC clocksource calibration/);
    assert.match(r.stdout, /^DISK:hello-from-the-host-disk\r?$/m);
    assert.match(r.stdout, /^RO:1 read-only-image\r?$/m);
    assert.match(r.stdout, /^RNG:[0-9a-f]{32}\r?$/m);
    assert.match(r.stdout, /^RO-WRITE-REFUSED\r?$/m);
    assert.match(r.stdout, /reboot: Power down/);
    const sector1 = readFileSync(disk).subarray(512, 512 + 16).toString('latin1');
    assert.equal(sector1, 'WRITTEN-BY-GUEST', 'the guest wrote the image file');
    assert.equal(readFileSync(ro).subarray(0, 15).toString('latin1'), 'read-only-image');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
