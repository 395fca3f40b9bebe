/**
 * The x87 environment images of FNSTENV/FLDENV (and the head of FNSAVE/FRSTOR), in the four
 * layouts of Intel SDM vol. 1, 8.1.10 (Figures 8-9 to 8-12): 14 or 28 bytes (operand size 16 or
 * 32; 64-bit mode uses the 28-byte protected-mode one), protected-mode or real/virtual-8086 mode.
 * Real-mode layouts hold 20/32-bit linear pointers and the opcode; protected-mode ones hold
 * offsets and selectors.
 */
import { abridgedTags, fullTagWord, retop, setTop, top, updateSummary, type X87File } from './regs.js';

export interface EnvLayout {
  /** 32-bit operand size: the 28-byte layouts. */
  wide: boolean;
  /** Real or virtual-8086 mode: pointers are linear addresses. */
  real: boolean;
}

/** Selectors and segment bases of the last instruction and operand (protected: selectors; real: bases). */
export interface EnvPointers { fcs: number; fds: number; csBase: number; dsBase: number }

export const envSize = (l: EnvLayout): number => (l.wide ? 28 : 14);

/** The image FNSTENV stores; reserved bits of the 28-byte layouts read as 1, as hardware stores them. */
export function storeEnv(f: X87File, l: EnvLayout, p: EnvPointers): Uint8Array {
  const b = new Uint8Array(envSize(l));
  const dv = new DataView(b.buffer);
  const tags = fullTagWord(f);
  const fip = Number(f.fip & 0xffffffffn), fdp = Number(f.fdp & 0xffffffffn);
  const ipLin = (p.csBase + fip) >>> 0, dpLin = (p.dsBase + fdp) >>> 0;
  if (l.wide) {
    dv.setUint32(0, 0xffff0000 | f.fcw, true);
    dv.setUint32(4, 0xffff0000 | f.fsw, true);
    dv.setUint32(8, 0xffff0000 | tags, true);
    if (l.real) {
      dv.setUint32(12, 0xffff0000 | (ipLin & 0xffff), true);
      dv.setUint32(16, ((ipLin >>> 16) << 12 | (f.fop & 0x7ff)) >>> 0, true);
      dv.setUint32(20, 0xffff0000 | (dpLin & 0xffff), true);
      dv.setUint32(24, ((dpLin >>> 16) << 12) >>> 0, true);
    } else {
      dv.setUint32(12, fip, true);
      dv.setUint32(16, ((f.fop & 0x7ff) << 16 | (p.fcs & 0xffff)) >>> 0, true);
      dv.setUint32(20, fdp, true);
      dv.setUint32(24, 0xffff0000 | (p.fds & 0xffff), true);
    }
  } else {
    dv.setUint16(0, f.fcw, true);
    dv.setUint16(2, f.fsw, true);
    dv.setUint16(4, tags, true);
    if (l.real) {
      dv.setUint16(6, ipLin & 0xffff, true);
      dv.setUint16(8, ((ipLin >>> 16) & 0xf) << 12 | (f.fop & 0x7ff), true);
      dv.setUint16(10, dpLin & 0xffff, true);
      dv.setUint16(12, ((dpLin >>> 16) & 0xf) << 12, true);
    } else {
      dv.setUint16(6, fip & 0xffff, true);
      dv.setUint16(8, p.fcs & 0xffff, true);
      dv.setUint16(10, fdp & 0xffff, true);
      dv.setUint16(12, p.fds & 0xffff, true);
    }
  }
  return b;
}

/** Selectors an image carries (protected-mode layouts), for the caller to keep. */
export interface LoadedSelectors { fcs: number; fds: number }

/**
 * FLDENV: loads control, status, tags and pointers from an image (ES/B follow the flags and
 * masks). The registers stay where they physically are: st[] turns with the new TOP.
 */
export function loadEnv(f: X87File, b: Uint8Array, l: EnvLayout): LoadedSelectors {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const oldTop = top(f);
  let fcs = 0, fds = 0;
  if (l.wide) {
    f.fcw = dv.getUint16(0, true);
    f.fsw = dv.getUint16(4, true);
    f.ftw = abridgedTags(dv.getUint16(8, true));
    if (l.real) {
      const w16 = dv.getUint32(16, true), w24 = dv.getUint32(24, true);
      f.fip = BigInt(((w16 >>> 12) << 16 | dv.getUint16(12, true)) >>> 0);
      f.fop = w16 & 0x7ff;
      f.fdp = BigInt(((w24 >>> 12) << 16 | dv.getUint16(20, true)) >>> 0);
    } else {
      f.fip = BigInt(dv.getUint32(12, true));
      const w16 = dv.getUint32(16, true);
      fcs = w16 & 0xffff;
      f.fop = (w16 >>> 16) & 0x7ff;
      f.fdp = BigInt(dv.getUint32(20, true));
      fds = dv.getUint16(24, true);
    }
  } else {
    f.fcw = dv.getUint16(0, true);
    f.fsw = dv.getUint16(2, true);
    f.ftw = abridgedTags(dv.getUint16(4, true));
    if (l.real) {
      const w8 = dv.getUint16(8, true);
      f.fip = BigInt(((w8 >>> 12) << 16 | dv.getUint16(6, true)) >>> 0);
      f.fop = w8 & 0x7ff;
      f.fdp = BigInt(((dv.getUint16(12, true) >>> 12) << 16 | dv.getUint16(10, true)) >>> 0);
    } else {
      f.fip = BigInt(dv.getUint16(6, true));
      fcs = dv.getUint16(8, true);
      f.fdp = BigInt(dv.getUint16(10, true));
      fds = dv.getUint16(12, true);
    }
  }
  updateSummary(f);
  const t = top(f);
  setTop(f, oldTop);
  retop(f, t);
  return { fcs, fds };
}

/** FNSAVE's image: the environment, then ST(0)..ST(7) (10 bytes each, stack order). */
export function storeSave(f: X87File, l: EnvLayout, p: EnvPointers): Uint8Array {
  const env = storeEnv(f, l, p);
  const b = new Uint8Array(env.length + 80);
  b.set(env);
  for (let k = 0; k < 8; k++) b.set(f.st[k]!, env.length + 10 * k);
  return b;
}

/** FRSTOR: loads the environment, then the registers (TOP from the loaded FSW places them). */
export function loadSave(f: X87File, b: Uint8Array, l: EnvLayout): LoadedSelectors {
  const n = envSize(l);
  const sel = loadEnv(f, b.subarray(0, n), l);
  for (let k = 0; k < 8; k++) f.st[k]!.set(b.subarray(n + 10 * k, n + 10 * k + 10));
  return sel;
}
