/**
 * The XSAVE feature set on the soft CPU for XCR0 = x87 | SSE (Intel SDM vol. 1 ch. 13, vol. 2
 * XSAVE/XRSTOR/XSAVEOPT/XGETBV/XSETBV): standard form only (no XSAVEC/XSAVES/XRSTORS,
 * CPUID.(0DH,1):EAX = XSAVEOPT), XGETBV with ECX = 0 only (XINUSE is not offered: ECX = 1 is #GP).
 * XSAVE/XSAVEOPT/XRSTOR themselves are src/x86/x87-exec/xsave-area.ts (shared with the assists),
 * run here with the vCPU's CPUID, this model's MXCSR mask and its x87 selectors.
 */
import type { Instruction } from '../../x86/instruction.js';
import { requireXsave, xrstorArea, xsaveArea, XCR0_SUPPORTED, type XsaveEnv } from '../../x86/x87-exec/xsave-area.js';
import type { SoftCpu } from './cpu.js';
import { cpuidValues } from './cpuid.js';
import { MXCSR_MASK } from './fpu.js';
import { advance, gp0, requireCpl0 } from './system-common.js';
import { selectorsOf } from './x87.js';

export { XFEATURE_SSE, XFEATURE_X87, XCR0_SUPPORTED, XSAVE_AREA_SIZE } from '../../x86/x87-exec/xsave-area.js';
/** CPUID.1:ECX.XSAVE. */
export const CPUID1_ECX_XSAVE = 1 << 26;

const offered = (cpu: SoftCpu): boolean => (cpuidValues(cpu, 1, 0)[2]! & CPUID1_ECX_XSAVE) !== 0;
const envOf = (cpu: SoftCpu): XsaveEnv => ({ sel: selectorsOf(cpu), mxcsrMask: MXCSR_MASK, offered: offered(cpu) });

export const xsave = (cpu: SoftCpu, insn: Instruction): void => xsaveArea(cpu, insn, false, envOf(cpu));
export const xsaveopt = (cpu: SoftCpu, insn: Instruction): void => xsaveArea(cpu, insn, true, envOf(cpu));
export const xrstor = (cpu: SoftCpu, insn: Instruction): void => xrstorArea(cpu, insn, envOf(cpu));

/** XGETBV: ECX = 0 reads XCR0; XINUSE (ECX = 1) is not offered, so anything else is #GP(0). */
export function xgetbv(cpu: SoftCpu, insn: Instruction): void {
  requireXsave(cpu, insn, offered(cpu));
  const ecx = cpu.regs[2]! >>> 0;
  if (ecx !== 0) throw gp0(`XGETBV: XCR${ecx} is not supported (ECX = 0x${ecx.toString(16)})`);
  cpu.regs[0] = cpu.xcr0; cpu.regs[1] = 0;
  cpu.regs[4] = 0; cpu.regs[5] = 0;
  advance(cpu, insn);
}

/** Why value (EDX:EAX) cannot be XCR0, or undefined when it can. Shared with setState. */
export function badXcr0(value: bigint): string | undefined {
  if ((value & 1n) === 0n) return `XCR0 bit 0 (x87) must be 1, got 0x${value.toString(16)}`;
  const extra = value & ~BigInt(XCR0_SUPPORTED);
  if (extra !== 0n) return `XCR0 0x${value.toString(16)} sets unsupported bits 0x${extra.toString(16)} (supported: 0x${XCR0_SUPPORTED.toString(16)})`;
  return undefined;
}

/** XSETBV: CPL 0, ECX = 0, a valid XCR0 (bit 0 set, only supported bits); else #GP(0). */
export function xsetbv(cpu: SoftCpu, insn: Instruction): void {
  requireXsave(cpu, insn, offered(cpu));
  requireCpl0(cpu, insn);
  const ecx = cpu.regs[2]! >>> 0;
  if (ecx !== 0) throw gp0(`XSETBV: XCR${ecx} cannot be written (ECX = 0x${ecx.toString(16)})`);
  const value = (BigInt(cpu.regs[4]! >>> 0) << 32n) | BigInt(cpu.regs[0]! >>> 0);
  const why = badXcr0(value);
  if (why) throw gp0(`XSETBV: ${why}`);
  cpu.xcr0 = Number(value);
  advance(cpu, insn);
}
