/**
 * CPUID: the soft CPU's feature table (only what it implements is offered), the per-vCPU
 * set/del masks of configureCpuid, and configured exit leaves ('cpuid' exit with npc, RIP left
 * on the instruction for the VMM to complete).
 *
 * The modelled CPU: a 64-bit Intel-style core with the feature set of QEMU's "Nehalem" model
 * (x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B; no AVX, no AES-NI or PCLMULQDQ),
 * plus MOVBE, FSGSBASE, LZCNT, RDTSCP and 1 GiB pages, which it also implements, and XSAVE with
 * XSAVEOPT for x87 | SSE state only (xsave.ts), which makes it Westmere/Sandy Bridge-like without
 * AVX: leaf 0DH as KVM/QEMU report it for XCR0 = 3 (0DH.0: EAX = 3, EBX = ECX = 576, EDX = 0;
 * 0DH.1: EAX = XSAVEOPT only, no XSAVEC/XGETBV1/XSAVES), CPUID.1:ECX.OSXSAVE mirroring CR4.
 * Signature: family 6, model 26 (Nehalem), stepping 5. Unlike a Nehalem it enumerates
 * IA32_ARCH_CAPABILITIES, reporting no speculative-execution weakness (L7_EDX says why), and the
 * IBRS/IBPB controls that go with it. Everything it offers is implemented
 * (MMX/SSE integer and data-movement forms: src/x86/sse; SSE floating-point arithmetic:
 * src/x86/sse/float when wired in); everything it does not offer raises #UD.
 */
import type { CpuidConf } from '../../api/types.js';
import type { Instruction } from '../../x86/instruction.js';
import { nextRipU64 } from '../../x86/exec/address.js';
import type { SoftCpu } from './cpu.js';
import { MAX_PHYS_ADDR_BITS } from './paging.js';
import { ExitSignal } from './signals.js';
import { CR4_OSXSAVE } from './state.js';
import { advance } from './system-common.js';
import { XCR0_SUPPORTED, XSAVE_AREA_SIZE } from './xsave.js';

type Regs = [number, number, number, number]; // eax ebx ecx edx

function ascii4(s: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(at + k) || 0) << (8 * k);
  return v >>> 0;
}

const VENDOR = 'GenuineIntel';
const BRAND = 'tsvisor soft x86-64 CPU'.padEnd(48, '\0');

/** Leaf 1 EDX: FPU TSC MSR PAE CX8 SEP PGE CMOV PAT CLFSH MMX FXSR SSE SSE2 (+ PSE DE). */
export const L1_EDX = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 11) |
  (1 << 13) | (1 << 15) | (1 << 16) | (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26);
/** Leaf 1 ECX: SSE3 (PNI), SSSE3, CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, XSAVE, hypervisor present. */
export const L1_ECX = (1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 22) | (1 << 23) | (1 << 26) | (1 << 31);
/** Leaf 1 ECX.OSXSAVE: not a feature but CR4.OSXSAVE as the guest set it. */
const L1_ECX_OSXSAVE = 1 << 27;
/** Leaf 0DH.1 EAX: XSAVEOPT (bit 0); XSAVEC (1), XGETBV with ECX = 1 (2) and XSAVES (3) are not offered. */
const XD1_EAX = 1 << 0;
// 0x80000001 EDX: SYSCALL NX Page1GB RDTSCP LM; ECX: LAHF/SAHF in 64-bit, ABM (LZCNT).
const X1_EDX = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29);
const X1_ECX = (1 << 0) | (1 << 5);
/**
 * Leaf 7.0 EDX: SERIALIZE (14), IBRS/IBPB (26; IA32_SPEC_CTRL and IA32_PRED_CMD) and
 * IA32_ARCH_CAPABILITIES (29). The soft CPU executes nothing speculatively (no branch predictors,
 * caches or store buffers to leak through), and says so as hardware does, through
 * ARCH_CAPABILITIES (msr.ts): a guest then skips mitigations that would cost it and protect
 * nothing (Linux: page-table isolation, retpolines, return thunks, buffer clearing on kernel
 * exit). SERIALIZE (system.ts) is what Linux's sync_core() uses where it is offered, instead of
 * an IRET to itself (about 109 K of them in a boot to `Run /init`, after each code patch).
 */
export const L7_EDX_SERIALIZE = 1 << 14;
export const L7_EDX = L7_EDX_SERIALIZE | (1 << 26) | (1 << 29);
/**
 * Leaf 7.2 EDX: BHI_CTRL (4), IA32_SPEC_CTRL.BHI_DIS_S. Linux assumes any CPU with enhanced IBRS
 * (or under a hypervisor) keeps branch history across privilege levels whatever BHI_NO says, and
 * then clears it in software on every syscall unless it can set this control.
 */
export const L7_2_EDX = 1 << 4;
/**
 * The highest basic leaf: 16H. Leaves 15H (TSC and core crystal clock) and 16H (nominal
 * frequencies) describe clocks the CPU does not own here: the TSC's rate and the LAPIC timer's
 * input are the VMM's (guest time, src/vmm/core/time-base.ts), so both read as all zeros, which the
 * SDM defines as "not enumerated", until the VMM sets them with configureCpuid (as a KVM VMM
 * fills leaf 15H). The leaves between 0DH and 16H enumerate nothing this model offers (0BH with
 * EBX = 0: no x2APIC topology; 0AH: no architectural performance monitoring).
 */
export const MAX_BASIC_LEAF = 0x16;

/**
 * Instructions the decoder knows whose CPUID feature this model does not offer (or that exist
 * only in an operating mode the model never enters): #UD in the guest, as on a CPU without them,
 * never an 'invalid' exit. By decoder mnemonic, with the reason the fault message gives.
 * (MMX/SSE/AVX encodings are the SSE layer's: src/x86/sse/index.ts.)
 */
export const NOT_OFFERED: ReadonlyMap<string, string> = new Map([
  ...['vmcall', 'vmlaunch', 'vmresume', 'vmxoff', 'vmfunc', 'vmread', 'vmwrite', 'vmptrld', 'vmptrst', 'vmclear', 'vmxon']
    .map((n): [string, string] => [n, 'no VMX (CPUID.1:ECX.VMX = 0)']),
  ...['vmrun', 'vmmcall', 'vmload', 'vmsave', 'stgi', 'clgi', 'skinit', 'invlpga']
    .map((n): [string, string] => [n, 'no SVM (CPUID.80000001h:ECX.SVM = 0)']),
  ...['encls', 'enclu', 'enclv'].map((n): [string, string] => [n, 'no SGX']),
  ['getsec', 'no SMX (CPUID.1:ECX.SMX = 0)'],
  ['rsm', 'not in system-management mode'],
  ['xsavec', 'no XSAVEC (CPUID.(EAX=0DH,ECX=1):EAX[1] = 0)'],
  ...['xsaves', 'xrstors'].map((n): [string, string] => [n, 'no XSAVES (CPUID.(EAX=0DH,ECX=1):EAX[3] = 0)']),
  ['rdrand', 'no RDRAND (CPUID.1:ECX.RDRAND = 0)'],
  ['rdseed', 'no RDSEED (CPUID.7:EBX.RDSEED = 0)'],
  ['rdpid', 'no RDPID (CPUID.7:ECX.RDPID = 0)'],
  ['clac', 'no SMAP (CPUID.7:EBX.SMAP = 0)'], ['stac', 'no SMAP (CPUID.7:EBX.SMAP = 0)'],
  ['xend', 'no RTM (CPUID.7:EBX.RTM = 0)'], ['xtest', 'no RTM/HLE'],
  ['rdpkru', 'no PKU (CPUID.7:ECX.PKU = 0)'], ['wrpkru', 'no PKU (CPUID.7:ECX.PKU = 0)'],
  ['pconfig', 'no PCONFIG'], ['wrmsrns', 'no WRMSRNS'], ['senduipi', 'no user interrupts'],
  ...['rstorssp', 'setssbsy', 'saveprevssp'].map((n): [string, string] => [n, 'no CET shadow stacks']),
  ...['monitorx', 'mwaitx', 'clzero', 'rdpru', 'invlpgb', 'tlbsync']
    .map((n): [string, string] => [n, 'an AMD extension this Intel-style model does not offer']),
  ...['montmul', 'xsha1', 'xsha256', 'xstore', 'xcrypt-ecb', 'xcrypt-cbc', 'xcrypt-ctr', 'xcrypt-cfb', 'xcrypt-ofb']
    .map((n): [string, string] => [n, 'VIA PadLock is not offered']),
]);

function baseLeaf(cpu: SoftCpu, leaf: number, subleaf: number): Regs {
  switch (leaf) {
    case 0: return [MAX_BASIC_LEAF, ascii4(VENDOR, 0), ascii4(VENDOR, 8), ascii4(VENDOR, 4)];
    case 1: return [0x000106a5, (cpu.apicId << 24) | (1 << 16) | (8 << 8), L1_ECX | 0, L1_EDX | 0];
    // Leaf 7.0: subleaves up to 2; EBX: FSGSBASE; EDX: L7_EDX. 7.2 EDX: L7_2_EDX.
    case 7: return subleaf === 0 ? [2, 1, 0, L7_EDX] : subleaf === 2 ? [0, 0, 0, L7_2_EDX] : [0, 0, 0, 0];
    // Leaf 0DH: x87 | SSE, both in the legacy region: 512 + the 64-byte header, whatever XCR0 is.
    case 0xd:
      if (subleaf === 0) return [XCR0_SUPPORTED, XSAVE_AREA_SIZE, XSAVE_AREA_SIZE, 0];
      return subleaf === 1 ? [XD1_EAX, 0, 0, 0] : [0, 0, 0, 0];
    case 0x80000000: return [0x80000008, 0, 0, 0];
    case 0x80000001: return [0, 0, X1_ECX, X1_EDX | 0];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const at = (leaf - 0x80000002) * 16;
      return [ascii4(BRAND, at), ascii4(BRAND, at + 4), ascii4(BRAND, at + 8), ascii4(BRAND, at + 12)];
    }
    case 0x80000008: return [(48 << 8) | MAX_PHYS_ADDR_BITS, 0, 0, 0];
    default: return [0, 0, 0, 0];
  }
}

/** The leaf as the guest sees it: the base table with the vCPU's masks applied. */
export function cpuidValues(cpu: SoftCpu, leaf: number, subleaf: number): Regs {
  const r = baseLeaf(cpu, leaf, subleaf);
  const conf: CpuidConf | undefined = cpu.cpuidConf.get(leaf);
  if (conf) {
    const names = ['eax', 'ebx', 'ecx', 'edx'] as const;
    for (let k = 0; k < 4; k++) {
      r[k] = ((r[k]! & ~(conf.del?.[names[k]!] ?? 0)) | (conf.set?.[names[k]!] ?? 0)) >>> 0;
    }
  }
  // OSXSAVE is state, not a feature: CR4's bit whatever the masks say (as KVM does).
  if (leaf === 1) r[2] = ((r[2]! & ~L1_ECX_OSXSAVE) | (cpu.cr4 & CR4_OSXSAVE ? L1_ECX_OSXSAVE : 0)) >>> 0;
  return r;
}

export function cpuid(cpu: SoftCpu, insn: Instruction): void {
  const leaf = cpu.regs[0]! >>> 0, subleaf = cpu.regs[2]! >>> 0;
  if (cpu.cpuidConf.get(leaf)?.exit) {
    throw new ExitSignal({ reason: 'cpuid', leaf, subleaf, npc: nextRipU64(cpu, insn) });
  }
  const [a, b, c, d] = cpuidValues(cpu, leaf, subleaf);
  cpu.regs[0] = a; cpu.regs[1] = 0;
  cpu.regs[6] = b; cpu.regs[7] = 0;
  cpu.regs[2] = c; cpu.regs[3] = 0;
  cpu.regs[4] = d; cpu.regs[5] = 0;
  advance(cpu, insn);
}
