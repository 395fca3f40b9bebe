/** ELF vmlinux loaded directly: the 64-bit entry with a synthesized header, and the PVH entry with hvm_start_info. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { loadLinux } from '../../src/vmm/loader/linux.js';
import { HVM_START_MAGIC } from '../../src/vmm/loader/pvh.js';
import { parseVmlinux } from '../../src/vmm/loader/vmlinux.js';
import { buildBzImage, buildVmlinux, compress, kernelPayload, note, pattern, pcMemory, sampleVmlinux } from './images.js';

const MEM = pcMemory(128 * 2 ** 20);
const err = (code: string, re: RegExp) => (e: unknown): boolean => e instanceof VmmError && e.code === code && re.test(e.message);

test('ELF vmlinux, 64-bit entry: p_paddr placement (not p_vaddr), synthesized 2.15 header, e_entry', () => {
  const p = loadLinux({ kernel: sampleVmlinux(), cmdline: 'root=/dev/vda', memory: MEM, initrd: new Uint8Array(0x3000) });
  assert.equal(p.path, 'elf');
  assert.deepEqual(p.segments.filter((s) => s.what === 'kernel').map((s) => [s.gpa, s.memSize]), [[0x1000000, 0x3000], [0x1200000, 0x5000]]);
  assert.deepEqual(p.entry, { mode: '64bit', rip: 0x1000000, rsi: 0x20000 });
  const bp = p.segments.find((s) => s.what === 'boot_params')!.bytes;
  const v = new DataView(bp.buffer);
  assert.equal(v.getUint16(0x1fe, true), 0xaa55);
  assert.equal(v.getUint32(0x202, true), 0x53726448);
  assert.equal(v.getUint16(0x206, true), 0x020f);
  assert.equal(bp[0x210], 0xff);
  assert.equal(v.getUint32(0x228, true), 0x21000);
  assert.equal(v.getUint32(0x218, true), p.initrd!.start);
  assert.equal(p.initrd!.end, 128 * 2 ** 20, 'top of RAM (below initrd_addr_max 0x7fffffff)');
  assert.deepEqual(p.identityMapped[0], { start: 0x1000000, end: 0x1205000 });
  assert.throws(() => loadLinux({ kernel: sampleVmlinux(), cmdline: 'x'.repeat(2048), memory: MEM }), err('EINVAL', /2048 bytes; the kernel takes at most 2047/));
});

test('PVH: entry from the note, EBX = hvm_start_info v1 with memmap, module, cmdline', () => {
  const initrd = pattern(0x2345, 4);
  const p = loadLinux({ kernel: sampleVmlinux(), cmdline: 'console=hvc0', memory: MEM, initrd, entry: 'pvh', acpiRsdpGpa: 0xf0000 });
  assert.deepEqual(p.entry, { mode: 'pvh', rip: 0x1000040, rbx: 0x20000 });
  assert.deepEqual(p.identityMapped, []);
  const si = p.segments.find((s) => s.what === 'start_info')!;
  assert.equal(si.gpa, 0x20000);
  const v = new DataView(si.bytes.buffer);
  const at = (gpa: number): number => gpa - 0x20000;
  assert.equal(v.getUint32(0, true), HVM_START_MAGIC);
  assert.equal(v.getUint32(4, true), 1, 'version 1');
  assert.equal(v.getUint32(12, true), 1, 'nr_modules');
  const modlist = Number(v.getBigUint64(16, true)), cmdline = Number(v.getBigUint64(24, true));
  assert.equal(v.getBigUint64(32, true), 0xf0000n, 'rsdp_paddr');
  const memmap = Number(v.getBigUint64(40, true)), entries = v.getUint32(48, true);
  assert.equal(Number(v.getBigUint64(at(modlist), true)), p.initrd!.start);
  assert.equal(Number(v.getBigUint64(at(modlist) + 8, true)), 0x2345);
  assert.equal(new TextDecoder().decode(si.bytes.subarray(at(cmdline), at(cmdline) + 13)), 'console=hvc0\0');
  assert.deepEqual(p.cmdline, { start: cmdline, end: cmdline + 13 });
  assert.equal(entries, 3);
  const e = (i: number): number[] => [Number(v.getBigUint64(at(memmap) + 24 * i, true)), Number(v.getBigUint64(at(memmap) + 24 * i + 8, true)), v.getUint32(at(memmap) + 24 * i + 16, true)];
  assert.deepEqual([e(0), e(1), e(2)], p.e820.map((x) => [x.addr, x.size, x.type]));
  assert.equal(p.segments.some((s) => s.what === 'boot_params'), false);
});

test('PVH from a bzImage: the decompressed vmlinux\'s note; refused without the note or with guest decompression', () => {
  const vm = sampleVmlinux();
  const bz = buildBzImage({ payload: kernelPayload('gzip', compress('gzip', vm) as Uint8Array, vm.length) });
  assert.deepEqual(loadLinux({ kernel: bz, cmdline: '', memory: MEM, entry: 'pvh' }).entry, { mode: 'pvh', rip: 0x1000040, rbx: 0x20000 });
  assert.throws(() => loadLinux({ kernel: bz, cmdline: '', memory: MEM, entry: 'pvh', decompress: 'guest' }), err('EINVAL', /PVH entry needs the ELF note/));
  assert.throws(() => loadLinux({ kernel: sampleVmlinux({ pvh: false }), cmdline: '', memory: MEM, entry: 'pvh' }), err('ENOTSUP', /no XEN_ELFNOTE_PHYS32_ENTRY note/));
});

test('vmlinux parser: notes, and malformed images', () => {
  assert.equal(parseVmlinux(sampleVmlinux()).pvhEntry, 0x1000040);
  assert.equal(parseVmlinux(sampleVmlinux({ pvh: false })).pvhEntry, undefined);
  const seg = [{ paddr: 0x1000000, bytes: new Uint8Array(0x100) }];
  const CASES: [Uint8Array, RegExp][] = [
    [buildVmlinux({ entry: 0x1000000, segments: seg, notes: note('Xen', 18, new Uint8Array(2)) }), /PHYS32_ENTRY note has a 2-byte descriptor/],
    [buildVmlinux({ entry: 0x1000000, segments: seg, pvhEntry: 0x2000000 }), /PVH entry 0x2000000 .* outside every loaded segment/],
    [buildVmlinux({ entry: 0x1000000, segments: seg, notes: (() => { const n = note('Xen', 18, new Uint8Array(4)); new DataView(n.buffer).setUint32(4, 0x1000, true); return n; })() }), /note at offset 0x0 .* runs past the segment/],
    [buildVmlinux({ entry: 0x3000000, segments: seg }), /entry point 0x3000000 is outside/],
    [buildVmlinux({ entry: 0x1000000, segments: [...seg, { paddr: 0x1000080, bytes: new Uint8Array(4) }] }), /segments overlap/],
    [buildVmlinux({ entry: 0x1000000, segments: [{ paddr: 0x1000000, bytes: new Uint8Array(8), memSize: 4 }] }), /p_filesz 0x8 exceeds p_memsz 0x4/],
    [sampleVmlinux().subarray(0, 100), /program headers .* run past the end/],
    [sampleVmlinux().subarray(0, 0x1000), /is truncated: segment 0 needs file bytes/],
  ];
  for (const [file, re] of CASES) assert.throws(() => parseVmlinux(file), err('EINVAL', re));
  const c32 = new Uint8Array(sampleVmlinux());
  c32[4] = 1;
  assert.throws(() => parseVmlinux(c32), err('EINVAL', /class 1 is not ELFCLASS64/));
  assert.throws(() => loadLinux({ kernel: new Uint8Array(600), cmdline: '', memory: MEM }), err('EINVAL', /neither a bzImage .* nor an ELF \(starts 00 00 00 00\)/));
});
