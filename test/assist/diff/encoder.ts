/**
 * Random instances of the forms in forms.ts, encoded to machine code here (no assembler per
 * case), for 64-bit mode and for 32-bit code (compatibility mode): random operand sizes (66,
 * REX.W), registers (REX.R/X/B, AH..BH vs SPL..DIL), addressing forms ([base], [base+disp8/32],
 * SIB with index*scale, index without base, absolute disp32, RIP-relative; with 67: 32-bit
 * addressing in 64-bit mode and the 16-bit forms [bx+si]... in 32-bit code, with garbage in the
 * register bits above the address size), random operand values, flags and DF, REP/REPE/REPNE,
 * LOCK on the read-modify-write forms.
 * Every memory operand lands in the mode's data page (RAM in the native run, MMIO in the
 * emulated one); string instructions use the data page and the mode's RAM buffer.
 */
import { FORMS, type Form } from './forms.js';
import { Rng, edgyValue } from '../seeded.js';
import { ARITH_FLAGS, DF } from '../../../src/x86/exec/context.js';

export const DIFF_LAYOUT = {
  CODE: 0x10000, STACK: 0x80000, TABLES: 0x100000, TABLES_B: 0x110000, PT_A: 0x120000, PT_B: 0x121000,
  /** Data page GPAs: RAM through CR3 A, not mapped (MMIO) through CR3 B. */
  DATA_RAM_GPA: 0x200000, DATA_MMIO_GPA: 0x400000,
  /** GVA whose write ends a case (unmapped GPA through either CR3). */
  DONE: 0x3ff000,
};
/** Where the data page and the RAM buffer are (GVA) for each code mode: 16-bit addressing needs them below 64 KiB. */
export const MODE_LAYOUT = {
  64: { data: 0x200000, buf: 0x170000 },
  32: { data: 0xd000, buf: 0xe000 },
} as const;
/** mov [DONE], al: SIB absolute in 64-bit mode, ModRM disp32 in 32-bit code. */
export const DONE_INSN = { 64: [0x88, 0x04, 0x25, 0x00, 0xf0, 0x3f, 0x00], 32: [0x88, 0x05, 0x00, 0xf0, 0x3f, 0x00] } as const;

export type DiffMode = 64 | 32;

export interface DiffCase {
  mode: DiffMode;
  form: Form;
  /** Human-readable: form, operand size, addressing, prefixes. */
  desc: string;
  bytes: Uint8Array;
  /** rax..r15. */
  gprs: bigint[];
  rflags: bigint;
  dataInit: Uint8Array;
  bufInit: Uint8Array;
}

const M64 = (1n << 64n) - 1n;
const le = (v: bigint, n: number): number[] => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
const addrMask = (a: number): bigint => (1n << BigInt(a * 8)) - 1n;

interface MemEnc { mod: number; rm: number; sib?: number; disp: number[]; rexX: boolean; rexB: boolean; ripRel: boolean; what: string }

/** Register bits above the address size that the CPU must ignore (kept 0 above bit 31 in 32-bit code). */
function junkAbove(rng: Rng, mode: DiffMode, addr: number): bigint {
  if (addr === 8) return 0n;
  const regMask = mode === 64 ? M64 : 0xffffffffn;
  return rng.u64() & regMask & ~addrMask(addr);
}

/** A 32/64-bit addressing form whose effective address is `linear`, setting base/index registers in gprs. */
function encodeMem(rng: Rng, mode: DiffMode, linear: bigint, addr: 4 | 8, gprs: bigint[]): MemEnc {
  const mask = addrMask(addr), nregs = mode === 64 ? 16 : 8;
  const set = (r: number, v: bigint): void => { gprs[r] = (v & mask) | junkAbove(rng, mode, addr); };
  const scaleBits = rng.below(4), scale = 1n << BigInt(scaleBits);
  const pickIndex = (avoid: number): number => { for (;;) { const i = rng.below(nregs); if (i !== 4 && i !== avoid) return i; } };
  const disp8 = (): number => rng.below(256) - 128;
  const disp32 = (): number => rng.u32n() | 0;
  const d32 = (v: number): number[] => le(BigInt.asUintN(32, BigInt(v)), 4);
  switch (rng.below(7)) {
    case 0: case 1: case 2: {
      const b = rng.below(nregs);
      let kind = rng.below(3);
      if (kind === 0 && (b & 7) === 5) kind = 1;   // [rbp]/[r13] has no mod-0 form
      const disp = kind === 0 ? 0 : kind === 1 ? disp8() : disp32();
      set(b, linear - BigInt(disp));
      const sib = (b & 7) === 4 ? (4 << 3) | 4 : undefined;
      return { mod: kind, rm: (b & 7) === 4 ? 4 : b & 7, sib, disp: kind === 0 ? [] : kind === 1 ? [disp & 0xff] : d32(disp), rexX: false, rexB: b >= 8, ripRel: false, what: `[r${b}${kind ? '+disp' + (kind === 1 ? 8 : 32) : ''}]` };
    }
    case 3: {
      const b = rng.below(nregs), i = pickIndex(b);
      let kind = rng.below(3);
      if (kind === 0 && (b & 7) === 5) kind = 1;
      const disp = kind === 0 ? 0 : kind === 1 ? disp8() : disp32();
      const v = edgyValue(rng) & mask;
      gprs[i] = v | junkAbove(rng, mode, addr);
      set(b, linear - v * scale - BigInt(disp));
      return { mod: kind, rm: 4, sib: (scaleBits << 6) | ((i & 7) << 3) | (b & 7), disp: kind === 0 ? [] : kind === 1 ? [disp & 0xff] : d32(disp), rexX: i >= 8, rexB: b >= 8, ripRel: false, what: `[r${b}+r${i}*${scale}${kind ? '+disp' : ''}]` };
    }
    case 4: {
      const i = pickIndex(-1);
      const v = BigInt(rng.below(0x20000) - 0x10000);
      const disp = Number(BigInt.asIntN(64, linear - v * scale));
      gprs[i] = (BigInt.asUintN(64, v) & mask) | junkAbove(rng, mode, addr);
      return { mod: 0, rm: 4, sib: (scaleBits << 6) | ((i & 7) << 3) | 5, disp: d32(disp), rexX: i >= 8, rexB: false, ripRel: false, what: `[r${i}*${scale}+disp32]` };
    }
    case 5:
      return { mod: 0, rm: 4, sib: (4 << 3) | 5, disp: d32(Number(linear)), rexX: false, rexB: false, ripRel: false, what: '[disp32] (SIB)' };
    default:
      if (mode === 32) return { mod: 0, rm: 5, disp: d32(Number(linear)), rexX: false, rexB: false, ripRel: false, what: '[disp32]' };
      return { mod: 0, rm: 5, disp: [0, 0, 0, 0], rexX: false, rexB: false, ripRel: true, what: '[rip+disp32]' };
  }
}

/** The 16-bit forms: rm -> registers added (bx=3 si=6 di=7 bp=5); rm 6 with mod 0 is [disp16]. */
const RM16: readonly (readonly number[])[] = [[3, 6], [3, 7], [5, 6], [5, 7], [6], [7], [5], [3]];
const NAMES16: Record<number, string> = { 3: 'bx', 5: 'bp', 6: 'si', 7: 'di' };

function encodeMem16(rng: Rng, linear: bigint, gprs: bigint[]): MemEnc {
  const rm = rng.below(8);
  let mod = rng.below(3);
  const junk = (): bigint => rng.u64() & 0xffff0000n;
  if (rm === 6 && mod === 0) return { mod, rm, disp: le(linear, 2), rexX: false, rexB: false, ripRel: false, what: '[disp16]' };
  const disp = mod === 0 ? 0 : mod === 1 ? rng.below(256) - 128 : rng.below(0x10000);
  const regs = RM16[rm]!;
  let rest = linear - BigInt(disp);
  if (regs.length === 2) {
    const v = BigInt(rng.below(0x10000));
    gprs[regs[1]!] = v | junk();
    rest -= v;
  }
  gprs[regs[0]!] = (rest & 0xffffn) | junk();
  const dispBytes = mod === 0 ? [] : mod === 1 ? [disp & 0xff] : le(BigInt(disp), 2);
  if (mod === 0 && rm === 6) mod = 1;
  return { mod, rm, disp: dispBytes, rexX: false, rexB: false, ripRel: false, what: `[${regs.map((r) => NAMES16[r]).join('+')}${mod ? '+disp' : ''}]` };
}

function immBytes(rng: Rng, kind: 'b' | 'z' | 'bs', opSize: number): number[] {
  const n = kind === 'z' ? (opSize === 2 ? 2 : 4) : 1;
  return le(edgyValue(rng), n);
}

/** The forms that exist in a mode (MOVSXD needs REX.W: 64-bit only; 63 is ARPL in 32-bit code). */
export function formsFor(mode: DiffMode): readonly Form[] {
  return mode === 64 ? FORMS : FORMS.filter((f) => !(f.sizes && f.sizes.every((x) => x === 8)));
}

export function generateCase(rng: Rng, mode: DiffMode = 64, forms: readonly Form[] = formsFor(mode)): DiffCase {
  const form = rng.pick(forms);
  const regMask = mode === 64 ? M64 : 0xffffffffn;
  const gprs = Array.from({ length: 16 }, (_, i) => (i >= 8 && mode === 32 ? 0n : edgyValue(rng) & regMask));
  gprs[4] = BigInt(DIFF_LAYOUT.STACK);
  let rflags = 0x202n | BigInt(rng.u32n() & ARITH_FLAGS);
  if (rng.below(2)) rflags |= BigInt(DF);
  const opSize = form.byteOp ? 1 : rng.pick((form.sizes ?? [2, 4, 8]).filter((x) => mode === 64 || x !== 8));
  const altAddr = rng.below(mode === 64 ? 8 : 4) === 0;
  const addr = (mode === 64 ? (altAddr ? 4 : 8) : altAddr ? 2 : 4) as 2 | 4 | 8;
  const dataInit = rng.bytes(4096), bufInit = rng.bytes(4096);
  const { data, buf } = MODE_LAYOUT[mode];
  const prefixes: number[] = [];
  if (opSize === 2) prefixes.push(0x66);
  if (altAddr) prefixes.push(0x67);
  // Segment prefixes: ignored in 64-bit mode; in 32-bit code only the writable flat ones (ES SS DS).
  if (rng.below(8) === 0) prefixes.push(rng.pick(mode === 64 ? [0x26, 0x2e, 0x36, 0x3e] : [0x26, 0x36, 0x3e]));
  const lock = form.lockable === true && rng.below(6) === 0;
  if (lock) prefixes.push(0xf0);
  let rex = opSize === 8 ? 0x48 : 0;
  if (mode === 64 && form.byteOp && rng.below(3) === 0) rex |= 0x40;
  const op = form.twoByte ? [0x0f, form.opcode] : [form.opcode];
  const t = rng.below(4096 - 8);
  const linear = BigInt(data + t);
  let body: number[];
  let what: string;
  let ripFix = -1;

  if (form.kind === 'STR') {
    const rep = rng.pick([0, 0xf3, 0xf2]);
    if (rep) prefixes.push(rep);
    const n = rep ? 1 + rng.below(8) : 1;
    const junk = (): bigint => junkAbove(rng, mode, addr);
    const place = (page: number): number => page + 0x100 + rng.below(0xe00);
    const mmioSrc = form.str === 'lods' || ((form.str === 'movs' || form.str === 'cmps') && rng.below(3) !== 1);
    const mmioDst = form.str === 'stos' || ((form.str === 'movs' || form.str === 'cmps') && !mmioSrc) || rng.below(3) === 0;
    const src = place(mmioSrc ? data : buf);
    const dst = place(mmioDst ? data : buf);
    gprs[6] = BigInt(src) | junk();
    gprs[7] = BigInt(dst) | junk();
    gprs[1] = BigInt(n) | junk();
    if (form.str === 'cmps') {
      // Make the compared windows mostly equal so REPE/REPNE stop at varied points.
      const from = (mmioSrc ? dataInit : bufInit), to = (mmioDst ? dataInit : bufInit);
      const size = opSize, down = (rflags & BigInt(DF)) !== 0n;
      const lo = (p: number): number => (down ? p - (n - 1) * size : p) & 0xfff;
      to.set(from.slice(lo(src), lo(src) + n * size), lo(dst));
      if (rng.below(2)) to[lo(dst) + rng.below(n * size)]! ^= 1 << rng.below(8);
    }
    body = [...(rex ? [rex] : []), ...op];
    what = `${rep ? (rep === 0xf3 ? 'rep ' : 'repne ') : ''}n=${n} ${mmioSrc ? 'src=mmio' : 'src=ram'} ${mmioDst ? 'dst=mmio' : 'dst=ram'}`;
  } else if (form.kind === 'MOFFS_LOAD' || form.kind === 'MOFFS_STORE') {
    body = [...(rex ? [rex] : []), ...op, ...le(linear, addr)];
    what = `moffs${addr * 8}`;
  } else {
    const reg = form.kind === 'EI' ? form.digit! : rng.below(mode === 64 ? 16 : 8);
    const m = addr === 2 ? encodeMem16(rng, linear, gprs) : encodeMem(rng, mode, linear, addr, gprs);
    if (reg >= 8) rex |= 0x44;
    if (m.rexX) rex |= 0x42;
    if (m.rexB) rex |= 0x41;
    const modrm = (m.mod << 6) | ((reg & 7) << 3) | m.rm;
    body = [...(rex ? [rex] : []), ...op, modrm, ...(m.sib === undefined ? [] : [m.sib])];
    if (m.ripRel) ripFix = prefixes.length + body.length;
    body.push(...m.disp);
    if (form.imm) body.push(...immBytes(rng, form.imm, opSize));
    what = `${m.what} reg=${reg}`;
  }
  const bytes = new Uint8Array([...prefixes, ...body]);
  if (ripFix >= 0) {
    const next = BigInt(DIFF_LAYOUT.CODE + bytes.length);
    bytes.set(le(BigInt.asUintN(32, linear - next), 4), ripFix);
  }
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { mode, form, desc: `[${mode}-bit] ${lock ? 'lock ' : ''}${form.name} size=${opSize} a${addr * 8} ${what} (${hex})`, bytes, gprs, rflags, dataInit, bufInit };
}
