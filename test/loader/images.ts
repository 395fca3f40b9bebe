/**
 * Synthetic kernels for the loader's tests: ELF vmlinux images shaped like the kernel build's
 * (PT_LOAD at kernel-map virtual addresses with p_paddr, PT_NOTE with Xen notes) and bzImages
 * wrapping a payload compressed the way arch/x86/boot/compressed does it (codec stream + the
 * 4-byte decompressed size), with the system's compressors.
 */
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

export const KERNEL_MAP = 0xffffffff80000000n;

export interface VmSegmentSpec {
  paddr: number;
  bytes: Uint8Array;
  memSize?: number;
  /** Defaults to KERNEL_MAP + paddr. */
  vaddr?: bigint;
}

export interface VmlinuxSpec {
  entry: number;
  segments: VmSegmentSpec[];
  /** The 32-bit PVH entry to put in a "Xen" note of type 18; absent: no such note. */
  pvhEntry?: number;
  /** Raw note bytes to use instead of the generated ones. */
  notes?: Uint8Array;
  /** Bytes appended after everything (a bzImage payload carries relocations there). */
  trailer?: Uint8Array;
}

const EHDR = 64, PHDR = 56;

export function buildVmlinux(spec: VmlinuxSpec): Uint8Array {
  const notes = spec.notes ?? xenNotes(spec.pvhEntry);
  const phnum = spec.segments.length + 1;
  const dataStart = EHDR + PHDR * phnum;
  const noteAt = dataStart;
  let size = noteAt + notes.length;
  const offsets = spec.segments.map((s) => {
    const at = align(size, 16);
    size = at + s.bytes.length;
    return at;
  });
  const trailer = spec.trailer ?? new Uint8Array(0);
  const out = new Uint8Array(size + trailer.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 2, true);
  v.setUint16(18, 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(spec.entry), true);
  v.setBigUint64(32, BigInt(EHDR), true);
  v.setUint16(52, EHDR, true);
  v.setUint16(54, PHDR, true);
  v.setUint16(56, phnum, true);
  spec.segments.forEach((s, i) => {
    const ph = EHDR + i * PHDR;
    v.setUint32(ph, 1, true);
    v.setUint32(ph + 4, 7, true);
    v.setBigUint64(ph + 8, BigInt(offsets[i]!), true);
    v.setBigUint64(ph + 16, s.vaddr ?? KERNEL_MAP + BigInt(s.paddr), true);
    v.setBigUint64(ph + 24, BigInt(s.paddr), true);
    v.setBigUint64(ph + 32, BigInt(s.bytes.length), true);
    v.setBigUint64(ph + 40, BigInt(s.memSize ?? s.bytes.length), true);
    v.setBigUint64(ph + 48, 0x200000n, true);
    out.set(s.bytes, offsets[i]!);
  });
  const nph = EHDR + spec.segments.length * PHDR;
  v.setUint32(nph, 4, true);
  v.setBigUint64(nph + 8, BigInt(noteAt), true);
  v.setBigUint64(nph + 32, BigInt(notes.length), true);
  v.setBigUint64(nph + 40, BigInt(notes.length), true);
  out.set(notes, noteAt);
  out.set(trailer, size);
  return out;
}

/** A note list like the kernel's: a few Xen notes, with PHYS32_ENTRY when pvhEntry is given. */
export function xenNotes(pvhEntry?: number): Uint8Array {
  const list: [string, number, Uint8Array][] = [
    ['Xen', 6, new TextEncoder().encode('linux\0')],
    ['GNU', 3, new Uint8Array(20).fill(0xab)],
  ];
  if (pvhEntry !== undefined) list.push(['Xen', 18, new Uint8Array(new Uint32Array([pvhEntry]).buffer)]);
  list.push(['Xen', 9, new TextEncoder().encode('yes\0')]);
  return concat(list.map(([name, type, desc]) => note(name, type, desc)));
}

export function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const n = new TextEncoder().encode(name + '\0');
  const out = new Uint8Array(12 + align(n.length, 4) + align(desc.length, 4));
  const v = new DataView(out.buffer);
  v.setUint32(0, n.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(n, 12);
  out.set(desc, 12 + align(n.length, 4));
  return out;
}

/** A small vmlinux at 16 MiB: text (entry at its start, PVH entry 0x40 in), data, bss, relocs after. */
export function sampleVmlinux(opts: { pvh?: boolean } = {}): Uint8Array {
  const text = pattern(0x3000, 1), data = pattern(0x1000, 2);
  return buildVmlinux({
    entry: 0x1000000,
    pvhEntry: opts.pvh === false ? undefined : 0x1000040,
    segments: [
      { paddr: 0x1000000, bytes: text },
      { paddr: 0x1200000, bytes: data, memSize: 0x5000, vaddr: 0n }, // like .data..percpu: p_vaddr 0
    ],
    trailer: pattern(0x200, 3),
  });
}

export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0;
  // Compressible but not trivial: runs and repeats, as code and data are.
  for (let i = 0; i < n; i++) {
    if (i % 64 < 16) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

export type TestCodec = 'gzip' | 'bzip2' | 'lzma' | 'xz' | 'lzo' | 'lz4' | 'zstd';

/** The command that compresses stdin as the kernel build does, per codec. */
const COMPRESSORS: Record<Exclude<TestCodec, 'gzip'>, [string, string[]]> = {
  bzip2: ['bzip2', ['-9', '-c']],
  lzma: ['xz', ['--format=lzma', '-9', '-c']],
  xz: ['xz', ['--check=crc32', '--x86', '--lzma2=dict=1MiB', '-c']],
  lzo: ['lzop', ['-9', '-c']],
  lz4: ['lz4', ['-l', '-9', '-c']],
  zstd: ['zstd', ['-19', '-q', '-c']],
};

/** The raw compressed stream (no size trailer), or a reason it cannot be made here. */
export function compress(codec: TestCodec, data: Uint8Array, extraArgs: string[] = []): Uint8Array | string {
  if (codec === 'gzip') return new Uint8Array(gzipSync(data, { level: 9 }));
  const [cmd, baseArgs] = COMPRESSORS[codec];
  const args = [...extraArgs, ...baseArgs];
  const r = spawnSync(cmd, args, { input: data, maxBuffer: 1 << 28 });
  if (r.error || r.status !== 0) return `${cmd} is not available to make a ${codec} stream (${r.error?.message ?? r.stderr.toString().trim()})`;
  return new Uint8Array(r.stdout);
}

/** A kernel payload: the stream plus, except for gzip, the appended little-endian size. */
export function kernelPayload(codec: TestCodec, stream: Uint8Array, size: number): Uint8Array {
  if (codec === 'gzip') return stream;
  const out = new Uint8Array(stream.length + 4);
  out.set(stream);
  new DataView(out.buffer).setUint32(stream.length, size, true);
  return out;
}

export interface BzImageSpec {
  payload: Uint8Array;
  version?: number;
  xloadflags?: number;
  cmdlineSize?: number;
  initrdAddrMax?: number;
  prefAddress?: number;
  kernelAlignment?: number;
  initSize?: number;
  setupSects?: number;
}

/** A bzImage: boot sector + setup sectors with the header, then the protected-mode code holding the payload. */
export function buildBzImage(spec: BzImageSpec): Uint8Array {
  const setupSects = spec.setupSects ?? 1;
  const kernelOffset = (setupSects + 1) * 512;
  const decompressorCode = pattern(0x400, 9); // stands for the decompressor before the payload
  const payloadOffset = decompressorCode.length;
  const pm = concat([decompressorCode, spec.payload, pattern(0x80, 10)]);
  const out = new Uint8Array(kernelOffset + pm.length);
  const v = new DataView(out.buffer);
  out[0x1ef] = 0xff; // the sentinel, which a loader must not copy
  out[0x1f1] = setupSects;
  v.setUint32(0x1f4, Math.ceil(pm.length / 16), true);
  v.setUint16(0x1fe, 0xaa55, true);
  out[0x200] = 0xeb;
  out[0x201] = 0x6a;
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, spec.version ?? 0x020f, true);
  out[0x211] = 0x01;
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x22c, spec.initrdAddrMax ?? 0x7fffffff, true);
  v.setUint32(0x230, spec.kernelAlignment ?? 0x200000, true);
  out[0x234] = 1;
  out[0x235] = 21;
  v.setUint16(0x236, spec.xloadflags ?? 0x1, true);
  v.setUint32(0x238, spec.cmdlineSize ?? 0x7ff, true);
  v.setUint32(0x248, payloadOffset, true);
  v.setUint32(0x24c, spec.payload.length, true);
  v.setBigUint64(0x258, BigInt(spec.prefAddress ?? 0x1000000), true);
  v.setUint32(0x260, spec.initSize ?? 0x800000, true);
  out.set(pm, kernelOffset);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** RAM [0, size) with the EBDA/BIOS hole, as the monitor lays it out. */
export function pcMemory(size: number): { regions: { gpa: number; size: number; type: 'ram' | 'reserved' | 'acpi' | 'nvs' }[] } {
  const low = Math.min(size, 3 * 2 ** 30);
  const regions: { gpa: number; size: number; type: 'ram' | 'reserved' | 'acpi' | 'nvs' }[] = [
    { gpa: 0, size: low, type: 'ram' },
    { gpa: 0x9fc00, size: 0x100000 - 0x9fc00, type: 'reserved' },
  ];
  if (size > low) regions.push({ gpa: 2 ** 32, size: size - low, type: 'ram' });
  return { regions };
}
