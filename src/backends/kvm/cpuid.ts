/**
 * A vCPU's CPUID table: KVM_GET_SUPPORTED_CPUID with the vCPU's APIC id filled in, then the
 * caller's per-leaf masks ((value & ~del) | set on every subleaf of the leaf), loaded with
 * KVM_SET_CPUID2. KVM answers CPUID in the kernel and offers no way to make a leaf exit to user
 * space, so { exit: true } is refused with ENOTSUP (see configure()).
 */
import { VmmError, hex } from '../../api/errors.js';
import type { CpuidConf, CpuidRegs } from '../../api/types.js';
import { CPUID2 } from './structs.js';
import { writeCpuidEntries } from './system.js';
import type { CpuidEntry, KvmSystem } from './system.js';

const REGS = ['eax', 'ebx', 'ecx', 'edx'] as const;

/** The host's table with a given APIC id in leaves 1 (EBX[31:24]) and 0xB/0x1F (EDX). */
function withApicId(supported: readonly CpuidEntry[], apicId: number): CpuidEntry[] {
  return supported.map((e) => {
    if (e.fn === 1) return { ...e, ebx: ((e.ebx & 0x00ffffff) | (apicId << 24)) >>> 0 };
    if (e.fn === 0xb || e.fn === 0x1f) return { ...e, edx: apicId };
    return { ...e };
  });
}

/** The kvm_cpuid2 image of the unconfigured table for APIC id 0, built once per system. */
const templates = new WeakMap<KvmSystem, { image: Uint8Array; apicPatches: { offset: number; shift: number; keep: number }[] }>();

function template(system: KvmSystem): { image: Uint8Array; apicPatches: { offset: number; shift: number; keep: number }[] } {
  let t = templates.get(system);
  if (t) return t;
  const entries = withApicId(system.supportedCpuid(), 0);
  const image = new Uint8Array(CPUID2.entries + entries.length * CPUID2.entrySize);
  writeCpuidEntries(new DataView(image.buffer), entries);
  const apicPatches: { offset: number; shift: number; keep: number }[] = [];
  entries.forEach((e, i) => {
    const o = CPUID2.entries + i * CPUID2.entrySize;
    if (e.fn === 1) apicPatches.push({ offset: o + 16 /* ebx */, shift: 24, keep: 0x00ffffff });
    if (e.fn === 0xb || e.fn === 0x1f) apicPatches.push({ offset: o + 24 /* edx */, shift: 0, keep: 0 });
  });
  t = { image, apicPatches };
  templates.set(system, t);
  return t;
}

export class CpuidTable {
  /** Materialised on the first configure(); until then the shared template image is used. */
  private entries: CpuidEntry[] | undefined;
  private readonly system: KvmSystem;
  private readonly apicId: number;

  constructor(system: KvmSystem, apicId: number) {
    this.system = system;
    this.apicId = apicId;
  }

  get count(): number {
    return this.entries ? this.entries.length : this.system.supportedCpuid().length;
  }

  /** Writes the kvm_cpuid2 structure (header + entries) into view. */
  write(view: DataView): void {
    if (this.entries) {
      writeCpuidEntries(view, this.entries);
      return;
    }
    const t = template(this.system);
    new Uint8Array(view.buffer, view.byteOffset, t.image.length).set(t.image);
    for (const p of t.apicPatches) {
      view.setUint32(p.offset, ((view.getUint32(p.offset, true) & p.keep) | (this.apicId << p.shift)) >>> 0, true);
    }
  }

  configure(leaf: number, conf: CpuidConf): void {
    this.entries ??= withApicId(this.system.supportedCpuid(), this.apicId);
    if (conf.exit) {
      throw new VmmError('ENOTSUP',
        `kvm: CPUID leaf ${hex(leaf)} cannot exit to the caller: KVM executes CPUID in the kernel and has no ` +
        'per-leaf user-space exit (use set/del masks, or the soft backend)');
    }
    let matched = this.entries.filter((e) => e.fn === leaf);
    if (matched.length === 0) {
      const entry: CpuidEntry = { fn: leaf, index: 0, flags: 0, eax: 0, ebx: 0, ecx: 0, edx: 0 };
      this.entries.push(entry);
      matched = [entry];
    }
    for (const e of matched) {
      for (const r of REGS) e[r] = apply(e[r], conf.set?.[r], conf.del?.[r]);
    }
  }
}

function apply(value: number, set: CpuidRegs[keyof CpuidRegs] | undefined, del: number | undefined): number {
  return ((value & ~(del ?? 0)) | (set ?? 0)) >>> 0;
}
