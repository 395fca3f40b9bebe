/**
 * toyvirt's LAPIC and MSRs as a guest sees them, through the CLI on the soft backend: the LAPIC
 * timer counts down and raises its vector (it is irq/'s model on core's loop and deadline timer,
 * not register storage), the platform's MSRs answer, and a refused RDMSR is said and is #GP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf } from './elf-builder.js';
import { runCli, skipUnlessBackend, skipUnlessCli } from './cli-run.js';
import { le32 } from '../support.js';

const dir = mkdtempSync(join(tmpdir(), 'toyvirt-platform-'));
const skip = skipUnlessCli() || skipUnlessBackend('soft');

/** mov dword [addr], value (32-bit code, flat data segment). */
const store = (addr: number, value: number): number[] => [0xc7, 0x05, ...le32(addr), ...le32(value)];
/** mov al, byte; out port, al. */
const outByte = (port: number, byte: number): number[] => [0xb0, byte, 0xe6, port];
/** mov ecx, msr; rdmsr. */
const rdmsr = (msr: number): number[] => [0xb9, ...le32(msr), 0x0f, 0x32];
const UD2 = [0x0f, 0x0b];

function guest(name: string, code: number[]): string {
  const path = join(dir, name);
  writeFileSync(path, buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(code) }] }));
  return path;
}

test('toyvirt: the LAPIC timer fires (one-shot, vector 0x40 in IRR) for a guest that polls for it with IF clear', { skip }, () => {
  const LAPIC = 0xfee00000;
  // Polls IRR bit 0x40 at most 200000 times (never a hang): found, or report failure code 1.
  const poll = [
    0xb9, ...le32(200_000), // mov ecx, 200000
    0xf7, 0x05, ...le32(LAPIC + 0x220), ...le32(1), // poll: test dword [IRR 0x40..0x5f], 1
    0x75, 0x09, // jnz found
    0x49, 0x75, 0xf1, // dec ecx; jnz poll
    ...outByte(124, 1), ...UD2, // not found: failure code 1
  ];
  const path = guest('lapic-timer', [
    ...store(LAPIC + 0xf0, 0x1ff), // SVR: software-enabled
    ...store(LAPIC + 0x3e0, 0xb), // divide by 1
    ...store(LAPIC + 0x320, 0x40), // LVT timer: vector 0x40, one-shot, unmasked
    ...store(LAPIC + 0x380, 10_000), // initial count
    ...poll,
    ...outByte(123, 0x54), ...outByte(124, 0), ...UD2, // found: 'T', work done, then a triple fault (no IDT)
  ]);
  const r = runCli(['toyvirt', path, '--backend', 'soft', '--interval', '60000']);
  assert.equal(r.stderr, '');
  assert.ok(r.stdout.includes('mach>\tT\n[+] Guest reported: work done\n[+] Machine received shutdown\n'), r.stdout);
  assert.equal(r.status, 0);
});

test('toyvirt: IA32_MISC_ENABLE answers; an MSR nobody has is said and is #GP (here a triple fault: no IDT)', { skip }, () => {
  const path = guest('msrs', [...rdmsr(0x1a0), ...outByte(123, 0x4d), ...rdmsr(0xc0011234), ...outByte(124, 0)]);
  const r = runCli(['toyvirt', path, '--backend', 'soft', '--interval', '60000']);
  assert.ok(r.stdout.includes('mach>\tM\n[+] RDMSR of MSR 0xc0011234 refused: injecting #GP\n[+] Machine received shutdown\n'), r.stdout);
  assert.ok(!r.stdout.includes('0x1a0'), r.stdout);
  assert.equal(r.stderr, 'tsvisor toyvirt: EIO: the guest shut down before reporting its work done on port 124\n');
  assert.equal(r.status, 1);
});
