/** Bad bzImage headers are refused with a VmmError naming the field and value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { loadLinux } from '../../src/vmm/loader/linux.js';
import { parseSetupHeader } from '../../src/vmm/loader/setup-header.js';
import { buildBzImage, compress, kernelPayload, pcMemory, sampleVmlinux } from './images.js';

const vmlinux = sampleVmlinux();
const payload = kernelPayload('gzip', compress('gzip', vmlinux) as Uint8Array, vmlinux.length);
const good = buildBzImage({ payload });
const MEM = pcMemory(64 * 2 ** 20);

function patched(edit: (v: DataView, b: Uint8Array) => void, base = good): Uint8Array {
  const b = new Uint8Array(base);
  edit(new DataView(b.buffer), b);
  return b;
}

const CASES: [string, Uint8Array, RegExp][] = [
  ['bad boot_flag', patched((v) => v.setUint16(0x1fe, 0x55aa, true)), /neither a bzImage .* nor an ELF/],
  ['HdrS missing', patched((v) => v.setUint32(0x202, 0x12345678, true)), /neither a bzImage/],
  ['protocol 2.11', buildBzImage({ payload, version: 0x020b }), /boot protocol version 2\.11 \(0x20b\) is older than 2\.12/],
  ['header end past boot_params', patched((b) => b.setUint8(0x201, 0x90)), /setup header end 0x292 .* runs past/],
  ['header end before init_size', patched((b) => b.setUint8(0x201, 0x40)), /setup header end 0x242 .* is before init_size/],
  ['setup_sects past the file', buildBzImage({ payload, setupSects: 200 }).subarray(0, 0x1000), /setup_sects 200 puts the protected-mode kernel at 0x19200, past the end/],
  ['zImage', patched((_v, b) => { b[0x211] = 0; }), /lacks LOADED_HIGH: a zImage/],
  ['kernel_alignment not a power of two', buildBzImage({ payload, kernelAlignment: 0x300000 }), /kernel_alignment 0x300000 is not a power of two/],
  ['pref_address misaligned', buildBzImage({ payload, prefAddress: 0x1100000 }), /pref_address 0x1100000 is not a multiple of kernel_alignment 0x200000/],
  ['init_size below the image', buildBzImage({ payload, initSize: 0x100 }), /init_size 0x100 is smaller than the/],
  ['payload past the image', patched((v) => v.setUint32(0x24c, 0x7fffffff, true)), /payload \(payload_offset 0x400, payload_length 0x7fffffff\) is empty or runs past/],
  ['empty payload', patched((v) => v.setUint32(0x24c, 0, true)), /payload .* is empty/],
  ['cmdline_size 0', buildBzImage({ payload, cmdlineSize: 0 }), /cmdline_size is 0/],
  ['pref_address past 2^53', patched((v) => v.setBigUint64(0x258, 0xffffffffffe00000n, true)), /pref_address 0xffffffffffe00000 is absurdly large/],
  ['truncated header', good.subarray(0, 0x230), /is truncated: 560 bytes, the setup header ends at 0x26c/],
  ['header cut inside version', good.subarray(0, 0x207), /is truncated: 519 bytes, the setup header's version field ends at 0x208/],
  ['no XLF_KERNEL_64', buildBzImage({ payload, xloadflags: 0 }), /xloadflags 0x0 lacks XLF_KERNEL_64/],
];

for (const [what, kernel, message] of CASES) {
  test(`bzImage with ${what} is refused`, () => {
    assert.throws(() => loadLinux({ kernel, cmdline: '', memory: MEM }),
      (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && message.test(e.message) || assert.fail(String(e)));
  });
}

test('a valid header parses to the values written', () => {
  const h = parseSetupHeader(good);
  assert.deepEqual(
    [h.version, h.setupSects, h.kernelOffset, h.headerEnd, h.prefAddress, h.kernelAlignment, h.initSize, h.cmdlineSize, h.payloadOffset, h.payloadLength, h.relocatable],
    [0x020f, 1, 1024, 0x26c, 0x1000000, 0x200000, 0x800000, 0x7ff, 0x400, payload.length, true]);
  const four = parseSetupHeader(patched((_v, b) => { b[0x1f1] = 0; }, buildBzImage({ payload, setupSects: 4 })));
  assert.deepEqual([four.setupSects, four.kernelOffset], [4, 2560], 'setup_sects 0 means 4');
});

test('a payload in no known codec, and one whose size trailer lies, are refused', () => {
  const junk = buildBzImage({ payload: new Uint8Array(64).fill(0x42) });
  assert.throws(() => loadLinux({ kernel: junk, cmdline: '', memory: MEM }), (e: unknown) => e instanceof VmmError && /starts with bytes 42 42 42 42 42 42: no known compression/.test(e.message));
  const big = patched((v) => v.setUint32(1024 + 0x400 + payload.length - 4, 0x7fffffff, true));
  assert.throws(() => loadLinux({ kernel: big, cmdline: '', memory: MEM, maxKernelBytes: 2 ** 24 }), (e: unknown) => e instanceof VmmError && e.code === 'E2BIG' && /declares 0x7fffffff decompressed bytes, over the 0x1000000-byte limit/.test(e.message));
  const short = patched((v) => v.setUint32(1024 + 0x400 + payload.length - 4, vmlinux.length - 1, true));
  assert.throws(() => loadLinux({ kernel: short, cmdline: '', memory: MEM }), (e: unknown) => e instanceof VmmError && /gzip/.test(e.message));
});
