/**
 * Guests that misbehave under toyvirt end the run (never a hang): an access to a port no device
 * answers is one error line and exit code 1, after what the guest printed so far; a guest with no
 * IDT that is sent a #GP either shuts down or gets one error line. On each usable backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf } from './elf-builder.js';
import { runCli, skipUnlessBackend, skipUnlessCli } from './cli-run.js';

/** 32-bit code: out 'H' to the console (port 123), then out to port 0x80, which has no device. */
const CODE = new Uint8Array([0xb0, 0x48, 0xe6, 0x7b, 0xb0, 0x41, 0xe6, 0x80, 0xf4]);

const dir = mkdtempSync(join(tmpdir(), 'toyvirt-guest-'));
const path = join(dir, 'unknown-port');
writeFileSync(path, buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: CODE }] }));
/** jmp $: spins with toyvirt's initial IDT (base 0, outside RAM, which starts at 0x1000). */
const spin = join(dir, 'spin');
writeFileSync(spin, buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array([0xeb, 0xfe]) }] }));

for (const backend of ['kvm', 'soft'] as const) {
  test(`toyvirt on ${backend}: a guest OUT to a port with no device is one error line, exit 1`, { skip: skipUnlessCli() || skipUnlessBackend(backend) }, () => {
    const r = runCli(['toyvirt', path, '--backend', backend, '--interval', '60000']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /\[\+\] State set: 32-bit protected mode, paging off, entry 0x1000\n.*\nmach>\tH$/);
    assert.equal(r.stderr, 'tsvisor toyvirt: ENODEV: no device at I/O port 0x80 (out, 1 bytes)\n');
  });
}

for (const backend of ['kvm', 'soft'] as const) {
  test(`toyvirt on ${backend}: a #GP sent to a guest without an IDT ends the run`, { skip: skipUnlessCli() || skipUnlessBackend(backend) }, () => {
    const r = runCli(['toyvirt', spin, '--backend', backend, '--interval', '20'], 20_000);
    assert.ok(r.stdout.includes('[+] Inject #GP event\n'), r.stdout);
    if (r.status === 0) {
      assert.ok(r.stdout.endsWith('[+] Machine received shutdown\n[+] Machine execution successful\n[+] Machine destroyed\n'), r.stdout);
    } else {
      assert.equal(r.status, 1, `ended by a signal or timeout: ${r.stderr}`);
      assert.match(r.stderr, /^tsvisor toyvirt: E[A-Z]+: [^\n]+\n$/);
    }
  });
}
