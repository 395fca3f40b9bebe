/**
 * `tsvisor run` boots an ELF vmlinux through its PVH entry point: the Debian kernel's payload,
 * decompressed by the loader into a temporary ELF file, with `--entry pvh`; the initramfs then
 * powers the guest off (exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompressPayload } from '../../src/vmm/loader/payload.js';
import { parseSetupHeader } from '../../src/vmm/loader/setup-header.js';
import { BIN } from '../cli/run-cli.js';
import { BOOT_LIMIT_MS, bootSkip as skip, guest } from './linux-boot.js';

test('tsvisor run --entry pvh boots the Debian kernel as an ELF vmlinux through its PVH note', { skip, timeout: BOOT_LIMIT_MS + 30_000 }, () => {
  if (typeof guest === 'string') return;
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-pvh-'));
  try {
    const bz = new Uint8Array(readFileSync(guest.vmlinuz));
    const h = parseSetupHeader(bz);
    const start = (h.setupSects + 1) * 512 + h.payloadOffset;
    const elf = decompressPayload(bz.subarray(start, start + h.payloadLength), 512 * 2 ** 20);
    const vmlinux = join(dir, 'vmlinux');
    writeFileSync(vmlinux, elf.bytes);
    const r = spawnSync(process.execPath, [BIN, 'run', '--kernel', vmlinux, '--initrd', guest.initramfs, '--backend', 'soft', '--entry', 'pvh', '-v'],
      { encoding: 'latin1', timeout: BOOT_LIMIT_MS, input: '' });
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}\n${r.stdout.slice(-2000)}`);
    assert.match(r.stderr, /^tsvisor run: soft backend, 256 MiB, kernel elf \(pvh entry\)/);
    assert.match(r.stdout, /TSVISOR-GUEST-READY/);
    assert.match(r.stdout, /reboot: Power down/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
