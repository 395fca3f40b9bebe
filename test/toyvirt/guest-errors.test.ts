/**
 * Guests that misbehave under toyvirt end the run (never a hang): an access to a port no device
 * answers is one error line and exit code 1, after what the guest printed so far; a guest that
 * ends without reporting its work done on the status port (a #GP sent before it has an IDT, a
 * triple fault) is a failure with one error line, never "execution successful". On each usable backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf } from './elf-builder.js';
import { runCli, skipUnlessBackend, skipUnlessCli } from './cli-run.js';
import { GUEST_BUILD } from '../support.js';

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
    assert.ok(!r.stdout.includes('execution successful'), r.stdout);
    assert.equal(r.status, 1, `ended by a signal or timeout: ${r.stderr}`);
    assert.match(r.stderr, /^tsvisor toyvirt: E[A-Z]+: [^\n]+\n$/);
  });
}

/** Ends the smallkern run at once: its first check fails, it says so on the status port and triple-faults. */
const KERNEL = join(GUEST_BUILD, 'smallkern');
for (const backend of ['kvm', 'soft'] as const) {
  test(`toyvirt on ${backend}: smallkern sent events every 20 ms either completes or fails with one error line`, { skip: skipUnlessCli() || skipUnlessBackend(backend) }, () => {
    // Events may arrive before smallkern has its IDT (then it triple-faults with its work undone).
    const r = runCli(['toyvirt', KERNEL, '--backend', backend, '--interval', '20'], 60_000);
    const done = r.stdout.includes('mach>\t10 traps taken: triple-faulting\n[+] Guest reported: work done\n');
    if (r.status === 0) {
      assert.ok(done, `exit 0 without the guest reporting its work done:\n${r.stdout}`);
      assert.ok(r.stdout.endsWith('[+] Machine execution successful\n[+] Machine destroyed\n'), r.stdout);
    } else {
      assert.equal(r.status, 1, `ended by a signal or timeout: ${r.stderr}`);
      assert.ok(!done && !r.stdout.includes('execution successful'), r.stdout);
      assert.match(r.stderr, /^tsvisor toyvirt: EIO: the guest (shut down before reporting its work done|reported failure code \d+) on port 124\n$/);
    }
    // Monitor lines start on a line of their own even when the guest's output stopped mid-line.
    for (const line of r.stdout.split('\n')) assert.ok(!/.\[\+\] /.test(line), `a monitor line glued to guest output: ${line}`);
  });
}

test('toyvirt: a guest that reports a failure code on the status port fails the run with that code', { skip: skipUnlessCli() || skipUnlessBackend('soft') }, () => {
  // out 124, 7 (mov al, 7; out 124, al); then a triple fault through an IDT outside RAM (ud2).
  const failing = join(dir, 'failing');
  writeFileSync(failing, buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array([0xb0, 0x07, 0xe6, 0x7c, 0x0f, 0x0b]) }] }));
  const r = runCli(['toyvirt', failing, '--backend', 'soft', '--interval', '60000']);
  assert.equal(r.status, 1);
  assert.ok(r.stdout.includes('[+] Guest reported failure code 7\n'), r.stdout);
  assert.equal(r.stderr, 'tsvisor toyvirt: EIO: the guest reported failure code 7 on port 124\n');
});
