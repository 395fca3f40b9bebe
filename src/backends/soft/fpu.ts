/**
 * The x87/SSE state instructions outside the x87 escapes: FWAIT, FXSAVE, FXRSTOR, LDMXCSR,
 * STMXCSR, and the fences/cache hints (no-ops on a single in-order CPU, after their checks).
 * The x87 instructions themselves (D8-DF) are src/x86/x87-exec, run through x87.ts.
 */
import type { Instruction } from '../../x86/instruction.js';
import { X86Fault } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { CR0_EM, CR0_MP, CR0_TS, CR4_OSFXSR } from './state.js';
import { advance, gp0, memAddress, ud } from './system-common.js';
import { updateSummary } from '../../x86/x87-exec/index.js';
import { fwaitX87, selectorsOf } from './x87.js';

/** MXCSR bits that may be set (with DAZ). */
export const MXCSR_MASK = 0xffff;

export function deviceNotAvailable(insn: Instruction): X86Fault {
  return new X86Fault(7, undefined, `${insn.mnemonic} with CR0.TS/EM set`);
}

function checkFxsr(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.cr0 & CR0_EM)) throw ud(insn, 'CR0.EM set');
  if (cpu.cr0 & CR0_TS) throw deviceNotAvailable(insn);
}

/** FWAIT: #NM with CR0.TS and MP both set, then a pending unmasked x87 exception (#MF). */
export function fwait(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) throw deviceNotAvailable(insn);
  fwaitX87(cpu, insn);
}

function checkAligned(cpu: SoftCpu, insn: Instruction): number {
  checkFxsr(cpu, insn);
  const a = memAddress(cpu, insn);
  if (a % 16 !== 0) throw gp0(`${insn.mnemonic} operand 0x${a.toString(16)} not 16-byte aligned`);
  return a;
}

/**
 * The 512-byte FXSAVE image of the current state: the one copy of the legacy-region layout,
 * which XSAVE (xsave.ts) shares. Without REX.W, FIP/FDP are stored as 32 bits with the FCS/FDS
 * words beside them (the x87 selectors; 0 after a REX.W restore), as the AMD host does.
 */
export function legacyImage(cpu: SoftCpu, wide: boolean): Uint8Array {
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, cpu.fcw, true);
  dv.setUint16(2, cpu.fsw, true);
  b[4] = cpu.ftw;
  dv.setUint16(6, cpu.fop, true);
  if (wide) {
    dv.setBigUint64(8, cpu.fip, true);
    dv.setBigUint64(16, cpu.fdp, true);
  } else {
    const sel = selectorsOf(cpu);
    dv.setUint32(8, Number(cpu.fip & 0xffffffffn), true);
    dv.setUint16(12, sel.fcs, true);
    dv.setUint32(16, Number(cpu.fdp & 0xffffffffn), true);
    dv.setUint16(20, sel.fds, true);
  }
  dv.setUint32(24, cpu.mxcsr, true);
  dv.setUint32(28, MXCSR_MASK, true);
  for (let k = 0; k < 8; k++) b.set(cpu.st[k]!, 32 + 16 * k);
  const nXmm = xmmCount(cpu);
  for (let k = 0; k < nXmm; k++) b.set(cpu.xmm[k]!, 160 + 16 * k);
  return b;
}

/** XMM registers the legacy image holds: 16 in 64-bit mode, else 8. */
export function xmmCount(cpu: SoftCpu): number {
  return cpu.mode === 64 ? 16 : 8;
}

/** MXCSR from a legacy image, #GP(0) for reserved bits (before anything is loaded). */
export function imageMxcsr(b: Uint8Array, what: string): number {
  const mxcsr = new DataView(b.buffer, b.byteOffset).getUint32(24, true);
  if (mxcsr & ~MXCSR_MASK) throw gp0(`${what}: reserved MXCSR bits in 0x${mxcsr.toString(16)}`);
  return mxcsr;
}

/**
 * Loads the x87 part of a legacy image. FCW's reserved bits and FOP's top five read back as the
 * host shows them (FLDCW's rule; FOP is 11 bits) and ES/B follow the flags and masks. Without
 * REX.W, FIP/FDP are 32 bits with the FCS/FDS words beside them (kept as the x87 selectors).
 */
export function loadLegacyX87(cpu: SoftCpu, b: Uint8Array, wide: boolean): void {
  const dv = new DataView(b.buffer, b.byteOffset);
  cpu.fcw = (dv.getUint16(0, true) & 0x1f3f) | 0x40;
  cpu.fsw = dv.getUint16(2, true); cpu.ftw = b[4]!;
  cpu.fop = dv.getUint16(6, true) & 0x7ff;
  const sel = selectorsOf(cpu);
  if (wide) {
    cpu.fip = dv.getBigUint64(8, true); cpu.fdp = dv.getBigUint64(16, true);
    sel.fcs = 0; sel.fds = 0;
  } else {
    cpu.fip = BigInt(dv.getUint32(8, true)); cpu.fdp = BigInt(dv.getUint32(16, true));
    sel.fcs = dv.getUint16(12, true); sel.fds = dv.getUint16(20, true);
  }
  updateSummary(cpu);
  for (let k = 0; k < 8; k++) cpu.st[k]!.set(b.subarray(32 + 16 * k, 42 + 16 * k));
}

/** Loads the XMM registers of a legacy image (MXCSR is the caller's: XRSTOR treats it apart). */
export function loadLegacyXmm(cpu: SoftCpu, b: Uint8Array): void {
  const nXmm = xmmCount(cpu);
  for (let k = 0; k < nXmm; k++) cpu.xmm[k]!.set(b.subarray(160 + 16 * k, 176 + 16 * k));
}

export function fxsave(cpu: SoftCpu, insn: Instruction): void {
  const a = checkAligned(cpu, insn);
  const img = legacyImage(cpu, insn.opSize === 8);
  const seg = insn.mem!.seg;
  // Probe the last byte first so a fault on the second page leaves memory untouched.
  cpu.write(seg, a + 511, 1, img[511]!, 0);
  for (let k = 0; k < 512; k += 4) {
    cpu.write(seg, a + k, 4, img[k]! | (img[k + 1]! << 8) | (img[k + 2]! << 16) | (img[k + 3]! << 24), 0);
  }
  advance(cpu, insn);
}

export function fxrstor(cpu: SoftCpu, insn: Instruction): void {
  const a = checkAligned(cpu, insn);
  const seg = insn.mem!.seg;
  const b = new Uint8Array(512);
  for (let k = 0; k < 512; k += 4) {
    const v = cpu.read(seg, a + k, 4);
    b[k] = v; b[k + 1] = v >>> 8; b[k + 2] = v >>> 16; b[k + 3] = v >>> 24;
  }
  cpu.mxcsr = imageMxcsr(b, 'FXRSTOR');
  loadLegacyX87(cpu, b, insn.opSize === 8);
  loadLegacyXmm(cpu, b);
  advance(cpu, insn);
}

function checkSse(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.cr0 & CR0_EM) || !(cpu.cr4 & CR4_OSFXSR)) throw ud(insn, 'CR0.EM set or CR4.OSFXSR clear');
  if (cpu.cr0 & CR0_TS) throw deviceNotAvailable(insn);
}

export function ldmxcsr(cpu: SoftCpu, insn: Instruction): void {
  checkSse(cpu, insn);
  const v = cpu.read(insn.mem!.seg, memAddress(cpu, insn), 4) >>> 0;
  if (v & ~MXCSR_MASK) throw gp0(`LDMXCSR: reserved bits in 0x${v.toString(16)}`);
  cpu.mxcsr = v;
  advance(cpu, insn);
}

export function stmxcsr(cpu: SoftCpu, insn: Instruction): void {
  checkSse(cpu, insn);
  cpu.write(insn.mem!.seg, memAddress(cpu, insn), 4, cpu.mxcsr, 0);
  advance(cpu, insn);
}

/** LFENCE/MFENCE/SFENCE, CLFLUSH, INVD/WBINVD (privileged): ordering and caches are not modelled. */
export function noOp(cpu: SoftCpu, insn: Instruction): void {
  advance(cpu, insn);
}
