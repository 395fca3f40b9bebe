/**
 * The x87 register file as the x87 layer sees it (the soft CPU's state.ts keeps it so; the
 * assists load it from getState's fpu group): st[k] is ST(k) in stack order (as FXSAVE and
 * getState/setState's fpu.st lay it out), TOP lives in FSW bits 11-13, and ftw is FXSAVE's
 * abridged tag byte indexed by physical register (bit p set: register p holds a value). A push
 * or pop rotates the array references so st[k] stays ST(k).
 */
import { type Ext, fromBytes, fullTag, TAG_EMPTY, toBytes } from '../x87/ext80.js';

export interface X87File {
  fcw: number; fsw: number; ftw: number; fop: number; fip: bigint; fdp: bigint;
  readonly st: Uint8Array[];
}

export const FSW_IE = 0x1, FSW_SF = 0x40, FSW_ES = 0x80, FSW_C0 = 0x100, FSW_C1 = 0x200, FSW_C2 = 0x400,
  FSW_TOP = 0x3800, FSW_C3 = 0x4000, FSW_B = 0x8000;
export const FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
/** The six exception flags (and mask bits in FCW). */
export const EXC_MASK = 0x3f;

export const top = (f: X87File): number => (f.fsw >>> 11) & 7;
export const physOf = (f: X87File, k: number): number => (top(f) + k) & 7;
export const isEmpty = (f: X87File, k: number): boolean => (f.ftw & (1 << physOf(f, k))) === 0;

export const readSt = (f: X87File, k: number): Ext => fromBytes(f.st[k]!);

export function writeSt(f: X87File, k: number, x: Ext): void {
  toBytes(x, f.st[k]!);
  f.ftw |= 1 << physOf(f, k);
}

export function setTop(f: X87File, t: number): void {
  f.fsw = (f.fsw & ~FSW_TOP) | ((t & 7) << 11);
}

/** Sets TOP to t without moving the physical registers: st[] turns with it. */
export function retop(f: X87File, t: number): void {
  const old = top(f);
  const physical = f.st.slice();
  for (let k = 0; k < 8; k++) f.st[k] = physical[(k + t - old) & 7]!;
  setTop(f, t);
}

/** TOP - 1, keeping st[] in stack order (the register's contents and tag are not touched). */
export function decTop(f: X87File): void {
  const st = f.st;
  const last = st[7]!;
  for (let k = 7; k > 0; k--) st[k] = st[k - 1]!;
  st[0] = last;
  setTop(f, top(f) - 1);
}

/** TOP + 1, keeping st[] in stack order. */
export function incTop(f: X87File): void {
  const st = f.st;
  const first = st[0]!;
  for (let k = 0; k < 7; k++) st[k] = st[k + 1]!;
  st[7] = first;
  setTop(f, top(f) + 1);
}

/** Pops: ST(0) becomes empty, TOP + 1. */
export function pop(f: X87File): void {
  f.ftw &= ~(1 << physOf(f, 0));
  incTop(f);
}

/** Pushes x (TOP - 1, then ST(0) = x). The caller checked for stack overflow. */
export function push(f: X87File, x: Ext): void {
  decTop(f);
  writeSt(f, 0, x);
}

/** ES and B follow the exception flags that are set and not masked (so FLDCW/FLDENV can raise them). */
export function updateSummary(f: X87File): void {
  const pending = f.fsw & ~f.fcw & EXC_MASK;
  f.fsw = pending !== 0 ? f.fsw | FSW_ES | FSW_B : f.fsw & ~(FSW_ES | FSW_B);
}

/** The full 16-bit tag word (FNSTENV/FNSAVE), by physical register, from the abridged tags and contents. */
export function fullTagWord(f: X87File): number {
  let w = 0;
  const t = top(f);
  for (let p = 0; p < 8; p++) {
    const tag = f.ftw & (1 << p) ? fullTag(fromBytes(f.st[(p - t) & 7]!)) : TAG_EMPTY;
    w |= tag << (2 * p);
  }
  return w;
}

/** The abridged tag byte of a full tag word (FLDENV/FRSTOR): only "empty" survives. */
export function abridgedTags(word: number): number {
  let b = 0;
  for (let p = 0; p < 8; p++) if (((word >>> (2 * p)) & 3) !== TAG_EMPTY) b |= 1 << p;
  return b;
}
