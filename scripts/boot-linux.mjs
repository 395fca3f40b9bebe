#!/usr/bin/env node
// Boots the Debian test guest (scripts/linux-guest.mjs: the stock cloud kernel and a busybox
// initramfs with its virtio modules) under `tsvisor run`, with a scratch virtio disk and the
// entropy device. Extra arguments go to `tsvisor run` (e.g. --backend soft, --append "console=ttyS0 tsvisor.shell").
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const g = spawnSync(process.execPath, [join(repo, 'scripts', 'linux-guest.mjs'), '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (g.status !== 0) process.exit(g.status ?? 1);
const guest = JSON.parse(g.stdout.trim().split('\n').pop());
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-linux-'));
const disk = join(dir, 'scratch.img');
const fd = openSync(disk, 'w');
ftruncateSync(fd, 16 * 2 ** 20);
closeSync(fd);
const args = [join(repo, 'bin', 'tsvisor.js'), 'run', '--kernel', guest.vmlinuz, '--initrd', guest.initramfs, '--disk', disk, '--rng', ...process.argv.slice(2)];
console.error(`boot-linux: tsvisor ${args.slice(1).join(' ')}`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
rmSync(dir, { recursive: true, force: true });
process.exit(r.status ?? 1);
