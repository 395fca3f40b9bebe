/** Builds small ELF64 x86-64 executables in memory, for the loader's tests and its fuzzer. */

export interface SegmentSpec {
  vaddr: number;
  bytes: Uint8Array;
  /** Defaults to bytes.length. */
  memSize?: number;
  flags?: number;
  type?: number;
}

export interface ElfSpec {
  entry: number;
  segments: SegmentSpec[];
  class?: number;
  type?: number;
  machine?: number;
}

const EHDR_SIZE = 64, PHDR_SIZE = 56;

export function buildElf(spec: ElfSpec): Uint8Array {
  const dataStart = EHDR_SIZE + PHDR_SIZE * spec.segments.length;
  const size = dataStart + spec.segments.reduce((n, s) => n + s.bytes.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.class ?? 2, 1, 1], 0);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(spec.entry), true);
  v.setBigUint64(32, BigInt(EHDR_SIZE), true);
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, spec.segments.length, true);
  let data = dataStart;
  spec.segments.forEach((s, i) => {
    const ph = EHDR_SIZE + i * PHDR_SIZE;
    v.setUint32(ph, s.type ?? 1, true);
    v.setUint32(ph + 4, s.flags ?? 5, true);
    v.setBigUint64(ph + 8, BigInt(data), true);
    v.setBigUint64(ph + 16, BigInt(s.vaddr), true);
    v.setBigUint64(ph + 24, BigInt(s.vaddr), true);
    v.setBigUint64(ph + 32, BigInt(s.bytes.length), true);
    v.setBigUint64(ph + 40, BigInt(s.memSize ?? s.bytes.length), true);
    v.setBigUint64(ph + 48, 0x1000n, true);
    out.set(s.bytes, data);
    data += s.bytes.length;
  });
  return out;
}

/** A valid two-segment image: code at 1 MiB (entry), and data + bss after it. */
export function sampleElf(): Uint8Array {
  return buildElf({
    entry: 0x100000,
    segments: [
      { vaddr: 0x100000, bytes: new Uint8Array([0x90, 0x90, 0xf4]), flags: 5 },
      { vaddr: 0x101000, bytes: new Uint8Array([1, 2, 3, 4]), memSize: 0x2000, flags: 6 },
    ],
  });
}
