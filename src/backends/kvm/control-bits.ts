/**
 * Which EFER bits the KVM backend accepts in setState, from KVM_GET_SUPPORTED_CPUID (the guest
 * gets the supported CPUID). KVM_SET_SREGS itself takes any EFER, but a guest WRMSR of a bit whose
 * feature its CPUID lacks is #GP (Linux arch/x86/kvm: kvm_valid_efer); setState refuses the same
 * bits, as the soft backend refuses the ones it does not implement. (CR4: probe.ts asks KVM.)
 */
import type { CpuidEntry } from './system.js';

type Reg = 'eax' | 'ebx' | 'ecx' | 'edx';
/** [EFER bit, CPUID leaf, register, feature bit]; feature -1: always allowed. */
type Rule = readonly [bit: number, leaf: number, reg: Reg, feature: number];

const EFER_RULES: readonly Rule[] = [
  [0, 0x80000001, 'edx', -1],  // SCE: KVM always allows it
  [8, 0x80000001, 'edx', 29],  // LME (LM)
  [10, 0x80000001, 'edx', 29], // LMA (LM)
  [11, 0x80000001, 'edx', 20], // NXE (NX)
  [12, 0x80000001, 'ecx', 2],  // SVME (SVM: nested virtualization)
  [14, 0x80000001, 'edx', 25], // FFXSR
];

/** The EFER bits a guest with these (supported) CPUID leaves may set. */
export function kvmEferMask(cpuid: readonly CpuidEntry[]): bigint {
  let mask = 0n;
  for (const [bit, leaf, reg, feature] of EFER_RULES) {
    const e = cpuid.find((c) => c.fn === leaf && c.index === 0);
    if (feature < 0 || (e !== undefined && ((e[reg] >>> feature) & 1) !== 0)) mask |= 1n << BigInt(bit);
  }
  return mask;
}
