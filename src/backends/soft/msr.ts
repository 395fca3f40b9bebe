/**
 * RDMSR/WRMSR for the platform MSRs the soft CPU implements (table below); any other MSR is a
 * 'rdmsr'/'wrmsr' exit with npc, RIP left on the instruction for the VMM to complete.
 * Values travel as [lo, hi] uint32 halves; no BigInt except in the exit record.
 */
import type { Instruction } from '../../x86/instruction.js';
import { nextRipU64 } from '../../x86/exec/address.js';
import type { SoftCpu } from './cpu.js';
import { ExitSignal } from './signals.js';
import { CR0_PG, EFER_LMA, EFER_LME, EFER_SUPPORTED } from './state.js';
import { advance, gp0, requireCpl0 } from './system-common.js';

const TWO32 = 4294967296;
const CANON = 0x800000000000;

export const MSR = {
  TSC: 0x10, APIC_BASE: 0x1b, SPEC_CTRL: 0x48, PRED_CMD: 0x49, ARCH_CAPABILITIES: 0x10a, SYSENTER_CS: 0x174, SYSENTER_ESP: 0x175, SYSENTER_EIP: 0x176, PAT: 0x277,
  EFER: 0xc0000080, STAR: 0xc0000081, LSTAR: 0xc0000082, CSTAR: 0xc0000083, SFMASK: 0xc0000084,
  FS_BASE: 0xc0000100, GS_BASE: 0xc0000101, KERNEL_GS_BASE: 0xc0000102, TSC_AUX: 0xc0000103,
} as const;

/** A 64-bit number from halves; addresses keep their signed form. */
function join(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + (lo >>> 0);
}
function splitHi(v: number): number { return Math.floor(v / TWO32); }

function canonical(v: number, msr: number): number {
  if (v >= CANON || v < -CANON) throw gp0(`WRMSR 0x${msr.toString(16)}: non-canonical address 0x${v.toString(16)}`);
  return v;
}

/**
 * IA32_ARCH_CAPABILITIES as [low, high] halves: the "not affected" bits that are true of a CPU
 * that executes nothing speculatively (cpuid.ts L7_EDX), by bit (Intel SDM vol. 4, table 2-2;
 * ITS_NO is the one VMMs synthesise). RSBA, RRSBA and the mitigation controls (TSX_CTRL,
 * FB_CLEAR, GDS_CTRL, ...) stay clear: there is nothing for them to describe or control.
 */
const ARCH_CAPABILITY_BITS: readonly (readonly [bit: number, name: string])[] = [
  [0, 'RDCL_NO'], [1, 'IBRS_ALL'], [4, 'SSB_NO'], [5, 'MDS_NO'], [6, 'PSCHANGE_MC_NO'], [8, 'TAA_NO'],
  [13, 'SBDR_SSDP_NO'], [14, 'FBSDP_NO'], [15, 'PSDP_NO'], [20, 'BHI_NO'], [24, 'PBRSB_NO'],
  [26, 'GDS_NO'], [27, 'RFDS_NO'], [62, 'ITS_NO'],
];
export const ARCH_CAPABILITIES: readonly [number, number] = ARCH_CAPABILITY_BITS.reduce<[number, number]>(
  ([lo, hi], [bit]) => (bit < 32 ? [(lo | (1 << bit)) >>> 0, hi] : [lo, (hi | (1 << (bit - 32))) >>> 0]), [0, 0]);
/** IA32_SPEC_CTRL bits offered: IBRS (0) and BHI_DIS_S (10); STIBP and SSBD are not enumerated. */
const SPEC_CTRL_BITS = (1 << 0) | (1 << 10);
/** IA32_PRED_CMD.IBPB. */
const PRED_CMD_IBPB = 1;

interface MsrDef {
  read(cpu: SoftCpu): [number, number];
  write(cpu: SoftCpu, lo: number, hi: number): void;
}

function address(get: (c: SoftCpu) => number, set: (c: SoftCpu, v: number) => void, msr: number): MsrDef {
  return {
    read: (c) => { const v = get(c); const hi = splitHi(v); return [v - hi * TWO32, hi]; },
    write: (c, lo, hi) => set(c, canonical(join(lo, hi), msr)),
  };
}

const MSRS = new Map<number, MsrDef>([
  [MSR.TSC, {
    read: (c) => { const v = c.tsc(); const hi = splitHi(v); return [v - hi * TWO32, hi]; },
    write: (c, lo, hi) => { c.setTsc((hi >>> 0) * TWO32 + (lo >>> 0)); },
  }],
  [MSR.APIC_BASE, {
    read: (c) => [c.apicBase % TWO32, Math.floor(c.apicBase / TWO32)],
    write: (c, lo, hi) => { c.apicBase = (hi >>> 0) * TWO32 + (lo >>> 0); },
  }],
  [MSR.SPEC_CTRL, {
    read: (c) => [c.specCtrl, 0],
    write: (c, lo, hi) => {
      if (hi || (lo & ~SPEC_CTRL_BITS)) throw gp0(`WRMSR SPEC_CTRL: reserved bits in 0x${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16)}`);
      c.specCtrl = lo;
    },
  }],
  // A barrier with nothing to order: the write checks its reserved bits and does no more.
  [MSR.PRED_CMD, {
    read: () => { throw gp0('RDMSR PRED_CMD: write-only'); },
    write: (_c, lo, hi) => { if (hi || (lo & ~PRED_CMD_IBPB)) throw gp0('WRMSR PRED_CMD: reserved bits'); },
  }],
  [MSR.ARCH_CAPABILITIES, {
    read: () => [ARCH_CAPABILITIES[0], ARCH_CAPABILITIES[1]],
    write: () => { throw gp0('WRMSR ARCH_CAPABILITIES: read-only'); },
  }],
  [MSR.SYSENTER_CS, { read: (c) => [c.sysenterCs, 0], write: (c, lo) => { c.sysenterCs = lo & 0xffff; } }],
  [MSR.SYSENTER_ESP, address((c) => c.sysenterEsp, (c, v) => { c.sysenterEsp = v; }, MSR.SYSENTER_ESP)],
  [MSR.SYSENTER_EIP, address((c) => c.sysenterEip, (c, v) => { c.sysenterEip = v; }, MSR.SYSENTER_EIP)],
  [MSR.PAT, {
    read: (c) => [c.patLo, c.patHi],
    write: (c, lo, hi) => {
      for (let k = 0; k < 8; k++) {
        const t = ((k < 4 ? lo : hi) >>> (8 * (k & 3))) & 0xff;
        if (t === 2 || t === 3 || t > 7) throw gp0(`WRMSR PAT: invalid memory type ${t} in entry ${k}`);
      }
      c.patLo = lo >>> 0; c.patHi = hi >>> 0;
    },
  }],
  [MSR.EFER, {
    read: (c) => [c.efer, 0],
    write: (c, lo, hi) => {
      if (hi || (lo & ~EFER_SUPPORTED)) throw gp0(`WRMSR EFER: reserved bits in 0x${(lo >>> 0).toString(16)}`);
      if ((c.cr0 & CR0_PG) && ((lo ^ c.efer) & EFER_LME)) throw gp0('WRMSR EFER: changing LME with paging on');
      c.efer = (lo & ~EFER_LMA) | (c.efer & EFER_LMA);
      c.flushTlb();
    },
  }],
  [MSR.STAR, { read: (c) => [c.starLo, c.starHi], write: (c, lo, hi) => { c.starLo = lo >>> 0; c.starHi = hi >>> 0; } }],
  [MSR.LSTAR, address((c) => c.lstar, (c, v) => { c.lstar = v; }, MSR.LSTAR)],
  [MSR.CSTAR, address((c) => c.cstar, (c, v) => { c.cstar = v; }, MSR.CSTAR)],
  [MSR.SFMASK, { read: (c) => [c.sfmask, 0], write: (c, lo) => { c.sfmask = lo >>> 0; } }],
  [MSR.FS_BASE, address((c) => c.segBase[4]!, (c, v) => { c.segBase[4] = v; }, MSR.FS_BASE)],
  [MSR.GS_BASE, address((c) => c.segBase[5]!, (c, v) => { c.segBase[5] = v; }, MSR.GS_BASE)],
  [MSR.KERNEL_GS_BASE, address((c) => c.kernelGsBase, (c, v) => { c.kernelGsBase = v; }, MSR.KERNEL_GS_BASE)],
  [MSR.TSC_AUX, { read: (c) => [c.tscAux, 0], write: (c, lo, hi) => { if (hi) throw gp0('TSC_AUX bits 63:32'); c.tscAux = lo >>> 0; } }],
]);

export function rdmsr(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const msr = cpu.regs[2]! >>> 0;
  const def = MSRS.get(msr);
  if (!def) throw new ExitSignal({ reason: 'rdmsr', msr, npc: nextRipU64(cpu, insn) });
  const [lo, hi] = def.read(cpu);
  cpu.regs[0] = lo; cpu.regs[1] = 0;
  cpu.regs[4] = hi; cpu.regs[5] = 0;
  advance(cpu, insn);
}

export function wrmsr(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const msr = cpu.regs[2]! >>> 0;
  const lo = cpu.regs[0]! >>> 0, hi = cpu.regs[4]! >>> 0;
  const def = MSRS.get(msr);
  if (!def) {
    throw new ExitSignal({ reason: 'wrmsr', msr, value: (BigInt(hi) << 32n) | BigInt(lo), npc: nextRipU64(cpu, insn) });
  }
  def.write(cpu, lo, hi);
  advance(cpu, insn);
}

/** RDTSC/RDTSCP: TSC = tscOffset + instructions retired (deterministic), or + host ns on a 'host' TSC machine. */
export function rdtsc(cpu: SoftCpu, insn: Instruction): void {
  readTsc(cpu, 0);
  cpu.regs[0] = tscOut.lo; cpu.regs[1] = 0;
  cpu.regs[4] = tscOut.hi; cpu.regs[5] = 0;
  if (insn.mnemonic === 'rdtscp') { cpu.regs[2] = cpu.tscAux; cpu.regs[3] = 0; }
  advance(cpu, insn);
}

/** What readTsc read: EAX (lo) and EDX (hi). */
export const tscOut = { lo: 0, hi: 0 };

/**
 * RDTSC's read, with `pending` instructions retired beyond cpu.instret (a compiled block's own
 * count, block-inline.ts): the CR4.TSD check, then the value's halves in tscOut.
 */
export function readTsc(cpu: SoftCpu, pending: number): void {
  if ((cpu.cr4 & 4 /* TSD */) && cpu.cpl !== 0) throw gp0('RDTSC at CPL > 0 with CR4.TSD');
  const v = cpu.tscAfter(pending);
  const hi = splitHi(v);
  tscOut.lo = v - hi * TWO32; tscOut.hi = hi;
}
