/**
 * A guest that misbehaves under toyvirt: an access to a port no device answers ends the run with
 * one error line and exit code 1, after what the guest printed so far. On each usable backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmmError } from '../../src/api/errors.js';
import { Hypervisor } from '../../src/frontend/index.js';
import { skipUnlessKvm } from '../support.js';
import { buildElf } from './elf-builder.js';
import { runCli, skipUnlessCli } from './cli-run.js';

/** 32-bit code: out 'H' to the console (port 123), then out to port 0x80, which has no device. */
const CODE = new Uint8Array([0xb0, 0x48, 0xe6, 0x7b, 0xb0, 0x41, 0xe6, 0x80, 0xf4]);

function usable(backend: 'kvm' | 'soft'): string | false {
  if (backend === 'kvm' && skipUnlessKvm()) return 'no usable /dev/kvm';
  try {
    Hypervisor.open({ backend }).close();
    return false;
  } catch (e) {
    if (e instanceof VmmError) return `${backend} backend not usable here: ${e.message}`;
    throw e;
  }
}

const path = join(mkdtempSync(join(tmpdir(), 'toyvirt-guest-')), 'unknown-port');
writeFileSync(path, buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: CODE }] }));

for (const backend of ['kvm', 'soft'] as const) {
  test(`toyvirt on ${backend}: a guest OUT to a port with no device is one error line, exit 1`, { skip: skipUnlessCli() || usable(backend) }, () => {
    const r = runCli(['toyvirt', path, '--backend', backend, '--interval', '60000']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /\[\+\] State set: 32-bit protected mode, paging off, entry 0x1000\n.*\nmach>\tH$/);
    assert.equal(r.stderr, 'tsvisor toyvirt: ENODEV: no device at I/O port 0x80 (out, 1 bytes)\n');
  });
}
