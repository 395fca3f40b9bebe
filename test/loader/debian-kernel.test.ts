/**
 * The loader on Debian's real cloud kernel and the initramfs built for it: the plan is checked
 * against readelf's reading of the decompressed vmlinux and the lz4 tool's decompression, and
 * the boot_params fields against the boot protocol, by hand. Skipped visibly when the guest
 * cannot be built here (no apt, no archive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadLinux } from '../../src/vmm/loader/linux.js';
import type { LoadPlan } from '../../src/vmm/loader/plan.js';
import { linuxGuest, type LinuxGuest } from './linux-guest.js';
import { pcMemory } from './images.js';

const guest = linuxGuest();
const skip = typeof guest === 'string' ? guest : false;
const MEM = pcMemory(2 * 2 ** 30);

function files(): { kernel: Uint8Array; initrd: Uint8Array; g: LinuxGuest } {
  const g = guest as LinuxGuest;
  return { kernel: new Uint8Array(readFileSync(g.vmlinuz)), initrd: new Uint8Array(readFileSync(g.initramfs)), g };
}

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** readelf's program headers: [type, offset, paddr, filesz, memsz] per row, and the entry point. */
function readelf(path: string): { entry: number; rows: [string, number, number, number, number][]; pvh?: number } | string {
  const r = spawnSync('readelf', ['-lW', '-nW', path], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) return `readelf unavailable: ${r.error?.message ?? r.stderr}`;
  const entry = Number(/Entry point (0x[0-9a-f]+)/.exec(r.stdout)![1]);
  const rows = [...r.stdout.matchAll(/^\s+(LOAD)\s+(0x[0-9a-f]+) 0x[0-9a-f]+ (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+)/gm)]
    .map((m) => [m[1]!, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])] as [string, number, number, number, number]);
  // The PHYS32_ENTRY note (type 0x12) shows as "Unknown note type: (0x00000012) description data: xx xx xx xx".
  const note = /\(0x00000012\)\s+description data: ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})/.exec(r.stdout);
  const pvh = note ? parseInt(note[4]! + note[3]! + note[2]! + note[1]!, 16) : undefined;
  return { entry, rows, pvh };
}

test('Debian kernel, host decompression: segments are the vmlinux ELF\'s, boot_params as the protocol says', { skip }, (t) => {
  const { kernel, initrd, g } = files();
  const started = performance.now();
  const plan: LoadPlan = loadLinux({ kernel, initrd, cmdline: 'console=ttyS0 earlyprintk=serial panic=-1', memory: MEM });
  const ms = performance.now() - started;
  t.diagnostic(`${g.package}: ${plan.decompression!.codec} payload ${plan.decompression!.compressedBytes} -> ${plan.decompression!.decompressedBytes} bytes; loadLinux took ${ms.toFixed(0)} ms (host decompression)`);

  // The setup header, by hand.
  assert.equal(u16(kernel, 0x1fe), 0xaa55);
  assert.equal(u32(kernel, 0x202), 0x53726448);
  const version = u16(kernel, 0x206);
  assert.ok(version >= 0x020c, `protocol ${version.toString(16)}`);
  const kernelOffset = ((kernel[0x1f1] || 4) + 1) * 512;
  const payloadAt = kernelOffset + u32(kernel, 0x248), payloadLen = u32(kernel, 0x24c);
  const declared = u32(kernel, payloadAt + payloadLen - 4);
  assert.equal(plan.decompression!.decompressedBytes, declared, 'decompressed size = the size the build appended');
  assert.equal(plan.decompression!.compressedBytes, payloadLen);

  // The decompressed vmlinux, as the lz4 tool and readelf see it.
  const vmlinux = new Uint8Array(plan.segments.find((s) => s.what === 'kernel')!.bytes.buffer);
  assert.equal(vmlinux.length, declared);
  const dir = mkdtempSync(join(tmpdir(), 'loader-'));
  try {
    if (plan.decompression!.codec === 'lz4') {
      writeFileSync(join(dir, 'payload.lz4'), kernel.subarray(payloadAt, payloadAt + payloadLen - 4));
      const lz = spawnSync('lz4', ['-dc', join(dir, 'payload.lz4')], { maxBuffer: 1 << 28 });
      if (lz.status === 0) assert.ok(Buffer.from(lz.stdout).equals(Buffer.from(vmlinux)), 'same bytes as lz4 -d');
      else t.diagnostic('lz4 tool unavailable: not compared byte for byte');
    }
    writeFileSync(join(dir, 'vmlinux'), vmlinux);
    const elf = readelf(join(dir, 'vmlinux'));
    if (typeof elf === 'string') return void t.diagnostic(elf);
    const kseg = plan.segments.filter((s) => s.what === 'kernel');
    assert.deepEqual(kseg.map((s) => [s.gpa, s.bytes.length, s.memSize]), elf.rows.filter((r) => r[4] > 0).map((r) => [r[2], r[3], r[4]]));
    for (const [s, r] of kseg.map((s, i) => [s, elf.rows[i]!] as const)) {
      assert.equal(s.bytes.byteOffset, r[1], 'segment bytes are the file bytes at p_offset');
    }
    assert.equal(plan.entry.rip, elf.entry, 'entry: e_entry (startup_64, physical)');
    assert.ok(elf.rows[elf.rows.length - 1]![1] + elf.rows[elf.rows.length - 1]![3] <= declared, 'the ELF lies within the decompressed bytes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // boot_params, by hand.
  const bp = plan.segments.find((s) => s.what === 'boot_params')!.bytes;
  const headerEnd = 0x202 + kernel[0x201]!;
  const WRITTEN = new Set([0x210, 0x211, ...range(0x218, 0x220), ...range(0x224, 0x226), ...range(0x228, 0x22c), ...range(0x250, 0x258)]);
  for (let i = 0x1f1; i < headerEnd; i++) if (!WRITTEN.has(i)) assert.equal(bp[i], kernel[i], `header byte ${i.toString(16)} copied`);
  assert.equal(bp[0x1ef], 0, 'sentinel');
  assert.equal(bp[0x210], 0xff, 'type_of_loader');
  assert.equal(bp[0x211]! & 0x81, 0x01, 'LOADED_HIGH, no CAN_USE_HEAP');
  assert.equal(u32(bp, 0x228), plan.cmdline.start);
  const cmd = plan.segments.find((s) => s.what === 'cmdline')!.bytes;
  assert.equal(new TextDecoder().decode(cmd), 'console=ttyS0 earlyprintk=serial panic=-1\0');
  assert.ok(cmd.length - 1 <= u32(kernel, 0x238), 'within cmdline_size');
  assert.equal(u32(bp, 0x218), plan.initrd!.start);
  assert.equal(u32(bp, 0x21c), initrd.length);
  assert.equal(bp[0x1e8], 3, 'e820: low RAM, EBDA/BIOS hole, RAM above 1 MiB');
  assert.equal(Number(new DataView(bp.buffer).getBigUint64(0x2d0 + 40 + 8, true)), 2 * 2 ** 30 - 0x100000);

  // The initramfs: page-aligned, under initrd_addr_max, clear of the kernel's init_size window.
  const initrdMax = u32(kernel, 0x22c), initSize = u32(kernel, 0x260);
  assert.ok(plan.initrd!.start % 4096 === 0 && plan.initrd!.end - 1 <= initrdMax);
  assert.ok(plan.initrd!.start >= plan.kernel.start + initSize || plan.initrd!.end <= plan.kernel.start);
  assert.equal(plan.segments.find((s) => s.what === 'initrd')!.bytes, initrd);
  assert.deepEqual([...initrd.subarray(0, 2)], [0x1f, 0x8b], 'gzip\'d cpio');
});

test('Debian kernel: guest decompression and PVH plans', { skip }, () => {
  const { kernel, initrd } = files();
  const kernelOffset = ((kernel[0x1f1] || 4) + 1) * 512;
  const pref = Number(new DataView(kernel.buffer).getBigUint64(0x258, true));
  const g = loadLinux({ kernel, initrd, cmdline: 'console=ttyS0', memory: MEM, decompress: 'guest' });
  assert.equal(g.segments[0]!.gpa, pref);
  assert.equal(g.segments[0]!.bytes.length, kernel.length - kernelOffset);
  assert.equal(g.segments[0]!.memSize, Math.max(u32(kernel, 0x260), kernel.length - kernelOffset));
  assert.deepEqual(g.entry, { mode: '64bit', rip: pref + 0x200, rsi: 0x20000 });
  const p = loadLinux({ kernel, initrd, cmdline: 'console=ttyS0', memory: MEM, entry: 'pvh' });
  assert.equal(p.entry.mode, 'pvh');
  const dir = mkdtempSync(join(tmpdir(), 'loader-'));
  try {
    writeFileSync(join(dir, 'vmlinux'), new Uint8Array(p.segments.find((s) => s.what === 'kernel')!.bytes.buffer));
    const elf = readelf(join(dir, 'vmlinux'));
    if (typeof elf !== 'string' && elf.pvh !== undefined) assert.equal(p.entry.rip, elf.pvh, 'PVH entry = readelf\'s PHYS32_ENTRY note');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Debian initramfs: a newc archive with /init, busybox, /dev/console and the virtio modules', { skip }, () => {
  const { initrd, g } = files();
  const cpio = gunzipSync(initrd);
  const names: string[] = [];
  let at = 0;
  for (;;) {
    assert.equal(cpio.toString('latin1', at, at + 6), '070701', `newc magic at ${at}`);
    const field = (i: number): number => parseInt(cpio.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
    const size = field(6), namesize = field(11);
    const name = cpio.toString('latin1', at + 110, at + 110 + namesize - 1);
    if (name === 'TRAILER!!!') break;
    names.push(name);
    at = align4(align4(at + 110 + namesize) + size);
  }
  for (const n of ['init', 'bin/busybox', 'dev/console', 'etc/modules-order', ...g.modules.map((m) => `lib/modules/${m}.ko`)]) assert.ok(names.includes(n), n);
  assert.ok(g.modules.includes('virtio_pci') && g.modules.includes('virtio_blk'));
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
function align4(n: number): number {
  return (n + 3) & ~3;
}
