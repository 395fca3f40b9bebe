#!/usr/bin/env node
// The README's main job: boots the Debian test guest (scripts/linux-guest.mjs: the stock cloud
// kernel and a busybox initramfs with its virtio modules) under `tsvisor run`, with a scratch
// virtio disk and the entropy device, to a shell on the serial console; once the prompt shows it
// types a few commands there, as a user would, and the last one powers the guest off.
//
//   node scripts/boot-linux.mjs            boot, run the commands below, power off (exit code 0)
//   node scripts/boot-linux.mjs --shell    boot to the shell and hand it to you (Ctrl-A x quits)
//   anything else is passed to `tsvisor run` (e.g. --backend soft, --mem 512M, -v)
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Typed at the guest's prompt: what kernel and CPU it sees, its virtio disk and entropy, then poweroff. */
const COMMANDS = [
  'uname -a',
  "grep -m1 'model name' /proc/cpuinfo",
  'cat /sys/block/vda/size /sys/class/misc/hw_random/rng_current',
  'echo written-by-the-guest > /dev/vda; head -1 /dev/vda',
  'poweroff -f',
];
const PROMPT = '/ # ';

const repo = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const interactive = argv.includes('--shell');
const passOn = argv.filter((a) => a !== '--shell');

const g = spawnSync(process.execPath, [join(repo, 'scripts', 'linux-guest.mjs'), '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (g.status !== 0) process.exit(g.status ?? 1);
const guest = JSON.parse(g.stdout.trim().split('\n').pop());
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-linux-'));
const disk = join(dir, 'scratch.img');
const fd = openSync(disk, 'w');
ftruncateSync(fd, 16 * 2 ** 20);
closeSync(fd);
const args = [join(repo, 'bin', 'tsvisor.js'), 'run', '--kernel', guest.vmlinuz, '--initrd', guest.initramfs, '--disk', disk, '--rng',
  '--append', 'console=ttyS0 tsvisor.shell', ...passOn];
console.error(`boot-linux: tsvisor ${args.slice(1).join(' ')}`);
if (!interactive) console.error(`boot-linux: at the shell prompt it types: ${COMMANDS.join(' ; ')}`);
const started = Date.now();
const child = spawn(process.execPath, args, { stdio: [interactive ? 'inherit' : 'pipe', interactive ? 'inherit' : 'pipe', 'inherit'] });
if (!interactive) {
  let seen = '', typed = false;
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    if (typed) return;
    seen = (seen + d.toString('latin1')).slice(-64);
    if (seen.includes(PROMPT)) {
      typed = true;
      child.stdin.write(COMMANDS.map((c) => `${c}\n`).join(''));
    }
  });
}
child.on('close', (status) => {
  rmSync(dir, { recursive: true, force: true });
  if (!interactive) console.error(`boot-linux: tsvisor exited with ${status} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(status ?? 1);
});
