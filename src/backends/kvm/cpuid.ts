/**
 * A vCPU's CPUID table: KVM_GET_SUPPORTED_CPUID with the vCPU's APIC id filled in, then the
 * caller's per-leaf masks ((value & ~del) | set on every subleaf of the leaf), loaded with
 * KVM_SET_CPUID2. KVM answers CPUID in the kernel and offers no way to make a leaf exit to user
 * space, so { exit: true } is refused with ENOTSUP (see configure()).
 */
import { VmmError, hex } from '../../api/errors.js';
import type { CpuidConf, CpuidRegs } from '../../api/types.js';
import type { CpuidEntry } from './system.js';

const REGS = ['eax', 'ebx', 'ecx', 'edx'] as const;

export class CpuidTable {
  readonly entries: CpuidEntry[];

  constructor(supported: readonly CpuidEntry[], apicId: number) {
    this.entries = supported.map((e) => ({ ...e }));
    for (const e of this.entries) {
      if (e.fn === 1) e.ebx = ((e.ebx & 0x00ffffff) | (apicId << 24)) >>> 0;
      if (e.fn === 0xb || e.fn === 0x1f) e.edx = apicId;
    }
  }

  configure(leaf: number, conf: CpuidConf): void {
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
