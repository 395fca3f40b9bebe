/**
 * The XSAVE feature set for XCR0 = x87 | SSE (Intel SDM vol. 1 ch. 13, vol. 2 XSAVE/XRSTOR/
 * XSAVEOPT/XGETBV/XSETBV): standard form only (no XSAVEC/XSAVES/XRSTORS, CPUID.(0DH,1):EAX =
 * XSAVEOPT), XGETBV with ECX = 0 only (XINUSE is not offered: ECX = 1 is #GP).
 *
 * XINUSE is tracked by value: a component counts as in use unless it is in its initial
 * configuration (SDM 13.6), the tightest tracking the SDM allows and what the AMD host reports
 * (checked by test/xsave). XSAVEOPT uses that init optimization (components not in use are not
 * written, MXCSR still is) but not the modified optimization: it always writes what is in use.
 * The legacy region's layout is FXSAVE's (fpu.ts legacyImage); only the component ranges are
 * written (bytes 416-511 and the header past XSTATE_BV are left alone, as on hardware).
 */
import type { Instruction } from '../../x86/instruction.js';
import type { SoftCpu } from './cpu.js';
import { cpuidValues } from './cpuid.js';
import {
  deviceNotAvailable, imageMxcsr, legacyImage, loadLegacyX87, loadLegacyXmm, xmmCount,
} from './fpu.js';
import { CR0_TS, CR4_OSXSAVE } from './state.js';
import { advance, gp0, memAddress, requireCpl0, ud } from './system-common.js';
import { initFpu, selectorsOf } from './x87.js';

/** XCR0 / XSTATE_BV component bits (SDM vol. 1, 13.1). */
export const XFEATURE_X87 = 1, XFEATURE_SSE = 2;
/** The components XSETBV and setState accept: what the soft CPU keeps. */
export const XCR0_SUPPORTED = XFEATURE_X87 | XFEATURE_SSE;
/** XSAVE area size for x87 | SSE: the 512-byte legacy region and the 64-byte header. */
export const XSAVE_AREA_SIZE = 576;
const HEADER = 512;
/** CPUID.1:ECX.XSAVE. */
export const CPUID1_ECX_XSAVE = 1 << 26;

/** Byte ranges [start, end) of the legacy region each part occupies (SDM vol. 1, 13.4.1). */
const X87_RANGES: readonly (readonly [number, number])[] = [[0, 24], [32, 160]];
const MXCSR_RANGE = [24, 32] as const;

/** #UD unless XSAVE is offered (the vCPU's CPUID) and enabled (CR4.OSXSAVE); LOCK is the decoder's #UD. */
function requireXsave(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpuidValues(cpu, 1, 0)[2]! & CPUID1_ECX_XSAVE)) throw ud(insn, 'XSAVE is not offered (CPUID.1:ECX.XSAVE = 0)');
  if (!(cpu.cr4 & CR4_OSXSAVE)) throw ud(insn, 'CR4.OSXSAVE is clear');
}

/** EDX:EAX as a component mask; only bits 0-1 can survive the AND with XCR0, so 32 bits suffice. */
function requestedFeatures(cpu: SoftCpu): number {
  return cpu.regs[0]! & cpu.xcr0 & XCR0_SUPPORTED;
}

/** x87 state in its initial configuration (SDM vol. 1, 13.6): as after FNINIT with ST0-7 = 0. */
function x87IsInit(cpu: SoftCpu): boolean {
  const s = selectorsOf(cpu);
  return cpu.fcw === 0x37f && cpu.fsw === 0 && cpu.ftw === 0 && cpu.fop === 0 && cpu.fip === 0n &&
    cpu.fdp === 0n && s.fcs === 0 && s.fds === 0 && cpu.st.every((r) => r.every((b) => b === 0));
}

/** SSE state in its initial configuration: every XMM register 0 (MXCSR does not count). */
function sseIsInit(cpu: SoftCpu): boolean {
  return cpu.xmm.every((r) => r.every((b) => b === 0));
}

/** XINUSE for bits 0-1. */
export function xinuse(cpu: SoftCpu): number {
  return (x87IsInit(cpu) ? 0 : XFEATURE_X87) | (sseIsInit(cpu) ? 0 : XFEATURE_SSE);
}

/** The checks every XSAVE/XRSTOR form makes, in the SDM's order; returns the area's offset. */
function checkArea(cpu: SoftCpu, insn: Instruction): number {
  requireXsave(cpu, insn);
  if (cpu.cr0 & CR0_TS) throw deviceNotAvailable(insn);
  const a = memAddress(cpu, insn);
  if (a % 64 !== 0) throw gp0(`${insn.mnemonic} operand 0x${a.toString(16)} not 64-byte aligned`);
  return a;
}

function writeRange(cpu: SoftCpu, insn: Instruction, a: number, img: Uint8Array, start: number, end: number): void {
  const seg = insn.mem!.seg;
  for (let k = start; k < end; k += 4) {
    cpu.write(seg, a + k, 4, img[k]! | (img[k + 1]! << 8) | (img[k + 2]! << 16) | (img[k + 3]! << 24), 0);
  }
}

function readBytes(cpu: SoftCpu, insn: Instruction, a: number, start: number, end: number): Uint8Array {
  const seg = insn.mem!.seg;
  const b = new Uint8Array(end - start);
  for (let k = 0; k < b.length; k += 4) {
    const v = cpu.read(seg, a + start + k, 4);
    b[k] = v; b[k + 1] = v >>> 8; b[k + 2] = v >>> 16; b[k + 3] = v >>> 24;
  }
  return b;
}

/** XSAVE and XSAVEOPT (REX.W: the 64-bit FIP/FDP format). */
function save(cpu: SoftCpu, insn: Instruction, opt: boolean): void {
  const a = checkArea(cpu, insn);
  const rfbm = requestedFeatures(cpu);
  const inUse = xinuse(cpu);
  const store = opt ? rfbm & inUse : rfbm;
  // Read XSTATE_BV first: it is written back with the requested bits replaced.
  const header = readBytes(cpu, insn, a, HEADER, HEADER + 8);
  const img = legacyImage(cpu, insn.opSize === 8);
  if (store & XFEATURE_X87) for (const [s, e] of X87_RANGES) writeRange(cpu, insn, a, img, s, e);
  if (rfbm & XFEATURE_SSE) writeRange(cpu, insn, a, img, MXCSR_RANGE[0], MXCSR_RANGE[1]);
  if (store & XFEATURE_SSE) writeRange(cpu, insn, a, img, 160, 160 + 16 * xmmCount(cpu));
  header[0] = (header[0]! & ~rfbm) | (inUse & rfbm);
  writeRange(cpu, insn, a + HEADER, header, 0, 8);
  advance(cpu, insn);
}

export const xsave = (cpu: SoftCpu, insn: Instruction): void => save(cpu, insn, false);
export const xsaveopt = (cpu: SoftCpu, insn: Instruction): void => save(cpu, insn, true);

const hex64 = (b: Uint8Array): string => Buffer.from(b).reverse().toString('hex');

/** XRSTOR, standard form: header checks, then each requested component loaded or initialized. */
export function xrstor(cpu: SoftCpu, insn: Instruction): void {
  const a = checkArea(cpu, insn);
  const rfbm = requestedFeatures(cpu);
  const header = readBytes(cpu, insn, a, HEADER, HEADER + 24);
  const xstateBv = header.subarray(0, 8), xcompBv = header.subarray(8, 16), reserved = header.subarray(16, 24);
  if (xcompBv.some((b) => b !== 0)) {
    // XCOMP_BV[63] = 1 asks for the compacted form, which this model does not offer (no XSAVEC).
    throw gp0(`XRSTOR: XCOMP_BV = 0x${hex64(xcompBv)} (compacted form not supported, standard form needs 0)`);
  }
  if (reserved.some((b) => b !== 0)) throw gp0(`XRSTOR: XSAVE header bytes 23:16 = 0x${hex64(reserved)}, must be 0`);
  if (xstateBv.some((b, k) => (k === 0 ? b & ~cpu.xcr0 : b) !== 0)) {
    throw gp0(`XRSTOR: XSTATE_BV 0x${hex64(xstateBv)} has bits outside XCR0 0x${cpu.xcr0.toString(16)}`);
  }
  const legacy = readBytes(cpu, insn, a, 0, 512);
  // The standard form loads MXCSR whenever SSE is requested, whatever XSTATE_BV[1] says.
  const mxcsr = rfbm & XFEATURE_SSE ? imageMxcsr(legacy, 'XRSTOR') : cpu.mxcsr;
  const bv = xstateBv[0]!;
  if (rfbm & XFEATURE_X87) {
    if (bv & XFEATURE_X87) {
      loadLegacyX87(cpu, legacy, insn.opSize === 8);
    } else {
      initFpu(cpu);
      for (const r of cpu.st) r.fill(0);
    }
  }
  if (rfbm & XFEATURE_SSE) {
    if (bv & XFEATURE_SSE) loadLegacyXmm(cpu, legacy);
    else for (let k = 0; k < xmmCount(cpu); k++) cpu.xmm[k]!.fill(0);
    cpu.mxcsr = mxcsr;
  }
  advance(cpu, insn);
}

/** XGETBV: ECX = 0 reads XCR0; XINUSE (ECX = 1) is not offered, so anything else is #GP(0). */
export function xgetbv(cpu: SoftCpu, insn: Instruction): void {
  requireXsave(cpu, insn);
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
  requireXsave(cpu, insn);
  requireCpl0(cpu, insn);
  const ecx = cpu.regs[2]! >>> 0;
  if (ecx !== 0) throw gp0(`XSETBV: XCR${ecx} cannot be written (ECX = 0x${ecx.toString(16)})`);
  const value = (BigInt(cpu.regs[4]! >>> 0) << 32n) | BigInt(cpu.regs[0]! >>> 0);
  const why = badXcr0(value);
  if (why) throw gp0(`XSETBV: ${why}`);
  cpu.xcr0 = Number(value);
  advance(cpu, insn);
}
