/**
 * On a terminal, `tsvisor run` puts it in raw mode and Ctrl-A x quits (as in QEMU), with exit code 0
 * and one line saying so. The terminal is a pseudo-terminal made by util-linux `script`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { linuxGuest } from '../loader/linux-guest.js';
import { BIN } from '../cli/run-cli.js';

const guest = linuxGuest();
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = typeof guest === 'string' ? guest : hasScript ? false : 'util-linux script (for a pseudo-terminal) is not installed';
if (skip && hasScript) console.log(`# SKIP Ctrl-A x test: ${skip}`);

test('on a TTY, Ctrl-A x quits the guest with exit code 0 and one line', { skip, timeout: 120_000 }, async () => {
  if (typeof guest === 'string') return;
  const cmd = [process.execPath, BIN, 'run', '--kernel', guest.vmlinuz, '--initrd', guest.initramfs, '--backend', 'soft']
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    // Once the kernel talks, the monitor is in raw mode: Ctrl-A x.
    if (out.includes('Linux version') && !child.stdin.writableEnded) child.stdin.end('\x01x');
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(status, 0, out.slice(-2000));
  assert.match(out, /tsvisor run: quit \(Ctrl-A x\)/);
  assert.doesNotMatch(out, /TSVISOR-GUEST-READY/, 'it quit before the guest finished booting');
});
