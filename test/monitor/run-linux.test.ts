/**
 * `tsvisor run` end to end on the stock Debian cloud kernel and a busybox initramfs
 * (scripts/linux-guest.mjs): the guest loads the distribution's own virtio modules, reads and
 * writes a virtio disk, reads host entropy, and powers off (exit 0); a panicking guest ends the
 * run with exit code 2 and the panic line. Runs on the soft backend (and KVM where usable).
 * TSVISOR_LONG_TESTS=1 adds a reboot (exit code 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linuxGuest } from '../loader/linux-guest.js';
import { BIN } from '../cli/run-cli.js';
import { backendSkip } from '../support.js';

const guest = linuxGuest();
const skip = typeof guest === 'string' ? guest : backendSkip('soft', 'tsvisor run');
const BOOT_LIMIT_MS = 400_000;
const PROMPT = '/ # ';

interface Boot { status: number | null; stdout: string; stderr: string }

/** Boots the guest with a shell on the console; once the prompt shows, types script (then the guest must end the run). */
function boot(extraArgs: string[], script: string): Promise<Boot> {
  if (typeof guest === 'string') throw new Error(guest);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--kernel', guest.vmlinuz, '--initrd', guest.initramfs, '--backend', 'soft',
      '--append', 'console=ttyS0 tsvisor.shell', ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', typed = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no end after ${BOOT_LIMIT_MS} ms; output so far:\n${stdout.slice(-3000)}\n${stderr}`)); }, BOOT_LIMIT_MS);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      if (!typed && stdout.includes(PROMPT)) {
        typed = true;
        child.stdin.write(script);
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

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
