/**
 * Seeded fuzzing of everything the loader reads from a file: the bzImage setup header, the ELF
 * program headers and notes, and each codec's input. Whatever the bytes, the outcome is a
 * VmmError or a plan/output that keeps its promises; never another exception or a hang, and
 * allocations stay bounded by the caps given. TSVISOR_SEED replays a run; the seed is printed
 * on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { loadLinux, type LinuxLoadOptions } from '../../src/vmm/loader/linux.js';
import { usableRam, inUsableRam } from '../../src/vmm/loader/memory-map.js';
import type { LoadPlan } from '../../src/vmm/loader/plan.js';
import { decompressPayload } from '../../src/vmm/loader/payload.js';
import { parseVmlinux } from '../../src/vmm/loader/vmlinux.js';
import { Rng, testSeed } from '../exec/rng.js';
import { buildBzImage, compress, kernelPayload, pcMemory, sampleVmlinux, xenNotes, buildVmlinux, pattern, concat, type TestCodec } from './images.js';

const seed = testSeed();
const MEM = pcMemory(64 * 2 ** 20);
const INTERESTING = [0, 1, 0xff, 0x100, 0x1000, 0x7fff, 0xffff, 0x10000, 0x200000, 0x1000000, 0x7fffffff, 0x80000000, 0xffffffff];

/** 1-4 edits: byte set, bit flip, 16/32/64-bit interesting values, truncation; focused on [lo, hi) when given. */
function mutate(base: Uint8Array, rng: Rng, lo = 0, hi = base.length): Uint8Array {
  let b = new Uint8Array(base);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = lo + rng.int(Math.max(1, Math.min(hi, b.length) - lo));
    const v = new DataView(b.buffer);
    switch (rng.int(7)) {
      case 0: b[at] = rng.int(256); break;
      case 1: b[at] = b[at]! ^ (1 << rng.int(8)); break;
      case 2: if (at + 2 <= b.length) v.setUint16(at, rng.pick(INTERESTING) & 0xffff, true); break;
      case 3: if (at + 4 <= b.length) v.setUint32(at, rng.pick(INTERESTING) >>> 0, true); break;
      case 4: if (at + 8 <= b.length) v.setBigUint64(at & ~7, BigInt(rng.pick(INTERESTING)) << BigInt(rng.pick([0, 16, 32])), true); break;
      case 5: b = b.subarray(0, rng.int(b.length + 1)); break;
      default: b[at] = rng.pick([0, 0xff, 0x80, 0x7f]);
    }
  }
  return b;
}

/** Runs fn on each mutant; anything thrown but a VmmError fails with the seed and iteration. */
function fuzz(name: string, iterations: number, make: (rng: Rng) => Uint8Array, fn: (input: Uint8Array) => void, needAccepted = true): void {
  const rng = new Rng(seed ^ hash(name));
  let accepted = 0, rejected = 0;
  for (let i = 0; i < iterations; i++) {
    const input = make(rng);
    try {
      fn(input);
      accepted++;
    } catch (e) {
      if (e instanceof VmmError) { rejected++; continue; }
      assert.fail(`${name}: seed ${seed} (TSVISOR_SEED=${seed}), iteration ${i}: ${(e as Error).stack ?? String(e)}`);
    }
  }
  // Both outcomes must occur, or the mutations are not reaching the interesting paths (checksummed
  // codec streams reject nearly every mutant, so there only rejection is required).
  assert.ok((accepted > 0 || !needAccepted) && rejected > 0, `${name}: seed ${seed}: ${accepted} accepted, ${rejected} rejected`);
}

function hash(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** What every accepted plan must satisfy. */
function checkPlan(p: LoadPlan, opts: LinuxLoadOptions): void {
  const ram = usableRam(opts.memory);
  const segs = [...p.segments].sort((a, b) => a.gpa - b.gpa);
  segs.forEach((s, i) => {
    assert.ok(s.bytes.length <= s.memSize, `${s.what}: bytes within memSize`);
    assert.ok(inUsableRam(ram, s.gpa, s.gpa + s.memSize), `${s.what} at ${s.gpa.toString(16)} in RAM`);
    if (i > 0) assert.ok(segs[i - 1]!.gpa + segs[i - 1]!.memSize <= s.gpa, `${segs[i - 1]!.what} and ${s.what} do not overlap`);
  });
  const kernel = p.segments.filter((s) => s.what === 'kernel');
  const inKernel = (a: number): boolean => kernel.some((s) => a >= s.gpa && a < s.gpa + s.memSize);
  assert.ok(inKernel(p.entry.rip), 'entry inside the kernel');
  if (p.initrd) assert.ok(p.initrd.start % 0x1000 === 0 && p.initrd.end - p.initrd.start === opts.initrd!.length);
}

const vmlinux = sampleVmlinux();
const gzBz = buildBzImage({ payload: kernelPayload('gzip', compress('gzip', vmlinux) as Uint8Array, vmlinux.length) });

test(`fuzz: bzImage setup header and payload (seed ${seed})`, () => {
  fuzz('bzImage', 1500, (rng) => (rng.int(4) === 0 ? mutate(gzBz, rng) : mutate(gzBz, rng, 0x1f0, 0x270)), (kernel) => {
    const r = new Rng(kernel.length ^ kernel[0x211]!);
    const opts: LinuxLoadOptions = {
      kernel, memory: MEM, cmdline: 'console=ttyS0', initrd: new Uint8Array(0x3000),
      decompress: r.pick(['host', 'guest', 'auto'] as const), entry: r.pick(['64bit', '64bit', 'pvh'] as const), maxKernelBytes: 4 * 2 ** 20,
    };
    checkPlan(loadLinux(opts), opts);
  });
});

test(`fuzz: ELF vmlinux program headers and notes (seed ${seed})`, () => {
  fuzz('vmlinux', 1500, (rng) => (rng.int(3) === 0 ? mutate(vmlinux, rng) : mutate(vmlinux, rng, 0, 64 + 56 * 3 + 128)), (kernel) => {
    const opts: LinuxLoadOptions = { kernel, memory: MEM, cmdline: '', entry: kernel.length % 2 ? 'pvh' : '64bit', initrd: new Uint8Array(0x1000) };
    checkPlan(loadLinux(opts), opts);
  });
});

test(`fuzz: PVH note parser (seed ${seed})`, () => {
  const notes = xenNotes(0x1000040);
  fuzz('pvh-notes', 1500, (rng) => buildVmlinux({ entry: 0x1000000, segments: [{ paddr: 0x1000000, bytes: new Uint8Array(0x100) }], notes: mutate(notes, rng) }), (elf) => {
    const vm = parseVmlinux(elf);
    if (vm.pvhEntry !== undefined) assert.ok(vm.pvhEntry >= 0x1000000 && vm.pvhEntry < 0x1000100);
  });
});

// Input with both structure and repeats, so every codec has matches, runs and literals to get wrong.
const sample = concat([vmlinux.subarray(0, 0x2000), pattern(0x3000, 11), new Uint8Array(0x800)]);
const CODECS: TestCodec[] = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'];
const CAP = 2 ** 20;

const VARIANTS: [TestCodec, string[]][] = [...CODECS.map((c): [TestCodec, string[]] => [c, []]), ['zstd', ['--no-check']]];
for (const [codec, extra] of VARIANTS) {
  const stream = compress(codec, sample, extra);
  test(`fuzz: ${codec}${extra.join('')} decoder input (seed ${seed})`, { skip: typeof stream === 'string' ? stream : false }, () => {
    const payload = kernelPayload(codec, stream as Uint8Array, sample.length);
    const check = (p: Uint8Array): void => {
      const out = decompressPayload(p, CAP);
      assert.ok(out.bytes.length <= CAP);
      assert.equal(out.bytes.length, new DataView(p.buffer, p.byteOffset).getUint32(p.length - 4, true));
    };
    check(payload); // the unmutated stream decodes
    // Keep the magic most of the time so the codec, not detection, sees the damage.
    fuzz(codec, 400, (rng) => mutate(payload, rng, rng.int(3) === 0 ? 0 : 6), check, false);
  });
}
