/**
 * The Debian test guest (scripts/linux-guest.mjs), built on demand and cached outside the repo.
 * Tests that need it call linuxGuest() and skip visibly with its reason when it cannot be had.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support.js';

export interface LinuxGuest {
  kernelVersion: string;
  package: string;
  vmlinuz: string;
  initramfs: string;
  modules: string[];
  dir: string;
}

let cached: LinuxGuest | string | undefined;

/** The guest, or why there is none (printed as a "# SKIP" line). */
export function linuxGuest(): LinuxGuest | string {
  if (cached === undefined) {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'linux-guest.mjs'), '--quiet'], { encoding: 'utf8', timeout: 600_000 });
    if (r.status === 0) cached = JSON.parse(r.stdout.trim().split('\n').pop()!) as LinuxGuest;
    else cached = `Debian Linux guest unavailable: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`;
    if (typeof cached === 'string') console.log(`# SKIP ${cached}`);
  }
  return cached;
}
