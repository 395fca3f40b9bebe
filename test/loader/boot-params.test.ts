/** loadLinux on synthetic bzImages: the boot_params the 64-bit boot protocol asks for, and the placement rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { loadLinux, type LinuxLoadOptions } from '../../src/vmm/loader/linux.js';
import type { LoadPlan, PlanSegment } from '../../src/vmm/loader/plan.js';
import type { MemoryRegion } from '../../src/vmm/loader/memory-map.js';
import { buildBzImage, compress, kernelPayload, pattern, pcMemory, sampleVmlinux } from './images.js';

const vmlinux = sampleVmlinux();
const gz = compress('gzip', vmlinux) as Uint8Array;
const bz = buildBzImage({ payload: kernelPayload('gzip', gz, vmlinux.length) });
const MEM = pcMemory(256 * 2 ** 20);

function plan(extra: Partial<LinuxLoadOptions> = {}): LoadPlan {
  return loadLinux({ kernel: bz, cmdline: 'console=ttyS0 panic=-1', memory: MEM, ...extra });
}
function seg(p: LoadPlan, what: PlanSegment['what']): PlanSegment[] {
  return p.segments.filter((s) => s.what === what);
}
function bpView(p: LoadPlan): DataView {
  const bp = seg(p, 'boot_params')[0]!.bytes;
  return new DataView(bp.buffer, bp.byteOffset, bp.byteLength);
}
const einval = (code: string, re: RegExp) => (e: unknown): boolean => e instanceof VmmError && e.code === code && re.test(e.message);

test('host-decompressed bzImage: vmlinux segments at p_paddr, entry startup_64 with RSI = boot_params', () => {
  const p = plan();
  assert.equal(p.path, 'bzimage-host-decompressed');
  assert.deepEqual(p.decompression, { codec: 'gzip', compressedBytes: gz.length, decompressedBytes: vmlinux.length });
  const k = seg(p, 'kernel');
  assert.deepEqual(k.map((s) => [s.gpa, s.bytes.length, s.memSize]), [[0x1000000, 0x3000, 0x3000], [0x1200000, 0x1000, 0x5000]]);
  assert.deepEqual([...k[0]!.bytes.subarray(0, 64)], [...pattern(0x3000, 1).subarray(0, 64)]);
  assert.deepEqual(p.kernel, { start: 0x1000000, end: 0x1205000 });
  assert.deepEqual(p.entry, { mode: '64bit', rip: 0x1000000, rsi: 0x20000 });
  assert.deepEqual(p.bootParams, { start: 0x20000, end: 0x21000 });
  // boot.rst: init_size from the kernel start, boot_params and the command line are identity-mapped.
  assert.deepEqual(p.identityMapped, [{ start: 0x1000000, end: 0x1800000 }, { start: 0x20000, end: 0x21000 }, p.cmdline]);
});

test('boot_params: header copied from 0x1f1 to 0x202 + byte 0x201, loader fields filled, sentinel left 0', () => {
  const p = plan();
  const bp = seg(p, 'boot_params')[0]!.bytes, v = bpView(p);
  assert.equal(bp.length, 4096);
  assert.equal(bp[0x1ef], 0, 'sentinel: the file has 0xff there, a loader copies from 0x1f1 only');
  assert.equal(v.getUint16(0x1fe, true), 0xaa55);
  assert.equal(v.getUint32(0x202, true), 0x53726448);
  assert.equal(v.getUint16(0x206, true), 0x020f);
  assert.deepEqual([...bp.subarray(0x22c, 0x26c)], [...bz.subarray(0x22c, 0x26c)], 'fields from initrd_addr_max on are the file\'s');
  assert.equal(bp[0x26c], 0, 'nothing past the header end is copied');
  assert.equal(bp[0x210], 0xff, 'type_of_loader: undefined');
  assert.equal(bp[0x211]! & 0x01, 1, 'LOADED_HIGH kept');
  assert.equal(bp[0x211]! & 0x80, 0, 'CAN_USE_HEAP clear: no real-mode code runs');
  assert.equal(v.getUint32(0x228, true), p.cmdline.start, 'cmd_line_ptr');
  assert.equal(v.getUint32(0x0c8, true), 0, 'ext_cmd_line_ptr');
  assert.equal(v.getUint32(0x218, true), 0, 'no ramdisk');
  const cmd = seg(p, 'cmdline')[0]!;
  assert.equal(new TextDecoder().decode(cmd.bytes), 'console=ttyS0 panic=-1\0');
  // e820: RAM below the EBDA, the reserved hole, RAM above 1 MiB.
  assert.equal(bp[0x1e8], 3);
  const e = (i: number): [number, number, number] => [Number(v.getBigUint64(0x2d0 + 20 * i, true)), Number(v.getBigUint64(0x2d8 + 20 * i, true)), v.getUint32(0x2e0 + 20 * i, true)];
  assert.deepEqual([e(0), e(1), e(2)], [[0, 0x9fc00, 1], [0x9fc00, 0x60400, 2], [0x100000, 256 * 2 ** 20 - 0x100000, 1]]);
  assert.deepEqual(p.e820, [{ addr: 0, size: 0x9fc00, type: 1 }, { addr: 0x9fc00, size: 0x60400, type: 2 }, { addr: 0x100000, size: 256 * 2 ** 20 - 0x100000, type: 1 }]);
});

test('command line: cmdline_size bytes fit, one more is EINVAL; NUL inside is EINVAL', () => {
  const small = buildBzImage({ payload: kernelPayload('gzip', gz, vmlinux.length), cmdlineSize: 10 });
  const ok = loadLinux({ kernel: small, cmdline: '0123456789', memory: MEM });
  assert.equal(ok.cmdline.end - ok.cmdline.start, 11);
  assert.throws(() => loadLinux({ kernel: small, cmdline: '0123456789a', memory: MEM }), einval('EINVAL', /command line is 11 bytes; the kernel takes at most 10/));
  assert.throws(() => plan({ cmdline: 'a\0b' }), einval('EINVAL', /NUL/));
});

test('initrd: page-aligned, as high as initrd_addr_max allows, clear of the kernel; ramdisk fields set', () => {
  const initrd = pattern(0x12345, 7);
  const p = plan({ initrd });
  assert.deepEqual(p.initrd, { start: 256 * 2 ** 20 - 0x13000, end: 256 * 2 ** 20 - 0x13000 + 0x12345 });
  const v = bpView(p);
  assert.equal(v.getUint32(0x218, true), p.initrd!.start);
  assert.equal(v.getUint32(0x21c, true), 0x12345);
  assert.equal(v.getUint32(0x0c0, true), 0);
  assert.equal(seg(p, 'initrd')[0]!.bytes, initrd);
  // A low initrd_addr_max pulls it down; the kernel's init_size window [16, 24 MiB) is skipped.
  const capped = buildBzImage({ payload: kernelPayload('gzip', gz, vmlinux.length), initrdAddrMax: 0x17fffff });
  const q = loadLinux({ kernel: capped, cmdline: '', memory: MEM, initrd: new Uint8Array(0x900000) });
  assert.ok(q.initrd!.end <= 0x1000000 && q.initrd!.start % 0x1000 === 0, `initrd below the kernel: ${q.initrd!.start.toString(16)}`);
  assert.throws(() => loadLinux({ kernel: capped, cmdline: '', memory: MEM, initrd: new Uint8Array(0x1000000) }), einval('ENOMEM', /no room for the 0x1000000-byte initrd below initrd_addr_max 0x17fffff/));
  assert.throws(() => plan({ initrd: new Uint8Array(0) }), einval('EINVAL', /initrd is empty/));
});

test('initrd above 4 GiB via ext_ramdisk_* when the kernel sets XLF_CAN_BE_LOADED_ABOVE_4G', () => {
  const mem = pcMemory(5 * 2 ** 30); // 3 GiB low, 2 GiB at 4 GiB
  const above = buildBzImage({ payload: kernelPayload('gzip', gz, vmlinux.length), xloadflags: 0x3 });
  const p = loadLinux({ kernel: above, cmdline: '', memory: mem, initrd: new Uint8Array(0x2000), initrdAbove4G: true });
  assert.deepEqual(p.initrd, { start: 6 * 2 ** 30 - 0x2000, end: 6 * 2 ** 30 });
  const v = bpView(p);
  assert.equal(v.getUint32(0x218, true), (6 * 2 ** 30 - 0x2000) % 2 ** 32);
  assert.equal(v.getUint32(0x0c0, true), 1, 'ext_ramdisk_image: the upper 32 bits');
  assert.equal(v.getUint32(0x21c, true), 0x2000);
  // Without the kernel's consent it stays below initrd_addr_max.
  const q = loadLinux({ kernel: bz, cmdline: '', memory: mem, initrd: new Uint8Array(0x2000), initrdAbove4G: true });
  assert.equal(q.initrd!.end, 0x80000000);
});

test('guest decompression: protected-mode kernel at pref_address, entry at +0x200, init_size claimed', () => {
  const p = plan({ decompress: 'guest', initrd: new Uint8Array(0x1000) });
  assert.equal(p.path, 'bzimage-guest-decompresses');
  const [k] = seg(p, 'kernel');
  assert.equal(k!.gpa, 0x1000000);
  assert.deepEqual([...k!.bytes], [...bz.subarray(1024)]);
  assert.equal(k!.memSize, 0x800000, 'init_size: the decompressor works in place within it');
  assert.deepEqual(p.entry, { mode: '64bit', rip: 0x1000200, rsi: 0x20000 });
  assert.equal(bpView(p).getUint32(0x214, true), 0x1000000, 'code32_start says where it was loaded');
  assert.equal(p.decompression, undefined);
});

test('memory checks: kernel outside RAM, boot data area over the kernel or outside RAM', () => {
  assert.throws(() => loadLinux({ kernel: bz, cmdline: '', memory: pcMemory(16 * 2 ** 20) }), einval('ENOMEM', /kernel needs 0x1000000\.\.0x1003000, which is not usable guest RAM/));
  assert.throws(() => plan({ bootData: { start: 0x1100000, end: 0x1110000 } }), einval('EINVAL', /overlaps the kernel/));
  assert.throws(() => plan({ bootData: { start: 0x9f000, end: 0xa0000 } }), einval('EINVAL', /boot data area 0x9f000\.\.0xa0000 is not usable guest RAM/));
  assert.throws(() => plan({ bootData: { start: 0x20000, end: 0x20800 } }), einval('ENOMEM', /boot_params and the command line take 4119 bytes/));
});

test('ACPI RSDP goes to boot_params.acpi_rsdp_addr (protocol 2.14+) and is refused by older kernels', () => {
  assert.equal(bpView(plan({ acpiRsdpGpa: 0xe0000 })).getBigUint64(0x70, true), 0xe0000n);
  const old = buildBzImage({ payload: kernelPayload('gzip', gz, vmlinux.length), version: 0x020c });
  assert.throws(() => loadLinux({ kernel: old, cmdline: '', memory: MEM, acpiRsdpGpa: 0xe0000 }), einval('EINVAL', /has no acpi_rsdp_addr/));
});

test('more e820 entries than boot_params holds (128) is E2BIG; PVH takes them all', () => {
  const regions: MemoryRegion[] = [{ gpa: 0, size: 0x80000, type: 'ram' }, { gpa: 0x100000, size: 256 * 2 ** 20, type: 'ram' }];
  for (let i = 0; i < 70; i++) regions.push({ gpa: 0x20000000 + i * 0x20000, size: 0x10000, type: 'ram' }, { gpa: 0x20010000 + i * 0x20000, size: 0x1000, type: 'reserved' });
  const memory = { regions };
  assert.throws(() => plan({ memory }), einval('E2BIG', /memory map has 142 e820 entries; boot_params holds 128/));
  const vm = sampleVmlinux();
  assert.equal(loadLinux({ kernel: vm, cmdline: '', memory, entry: 'pvh' }).e820.length, 142);
});
