/**
 * Random instances of the forms in forms.ts, encoded to machine code here (no assembler per
 * case): random operand sizes (66, REX.W), registers (REX.R/X/B, AH..BH vs SPL..DIL), addressing
 * forms ([base], [base+disp8/32], SIB with index*scale, index without base, absolute disp32,
 * RIP-relative, 32-bit address size with garbage in the upper register halves), random operand
 * values, flags and DF, REP/REPE/REPNE. Every memory operand lands in the data page at
 * DIFF_LAYOUT.DATA (RAM in the native run, MMIO in the emulated one); string instructions use
 * the data page and the RAM buffer BUF.
 */
import { FORMS, type Form } from './forms.js';
import { Rng, edgyValue } from '../seeded.js';
import { ARITH_FLAGS, DF } from '../../../src/x86/exec/context.js';

export const DIFF_LAYOUT = {
  CODE: 0x10000, BUF: 0x170000, STACK: 0x80000, TABLES: 0x100000, TABLES_B: 0x110000,
  /** GVA of the data page; GPA 0x200000 (RAM) through CR3 A, GPA 0x400000 (MMIO) through CR3 B. */
  DATA: 0x200000, DATA_MMIO_GPA: 0x400000,
  /** GVA whose write ends a case (unmapped GPA through either CR3). */
  DONE: 0x3ff000,
};
/** mov [DONE], al */
export const DONE_INSN = [0x88, 0x04, 0x25, 0x00, 0xf0, 0x3f, 0x00];

export interface DiffCase {
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

interface MemEnc { mod: number; rm: number; sib?: number; disp: number[]; rexX: boolean; rexB: boolean; ripRel: boolean; what: string }

/** Encodes a memory operand whose effective address is `linear`, setting base/index registers in gprs. */
function encodeMem(rng: Rng, linear: bigint, addr32: boolean, gprs: bigint[]): MemEnc {
  const mask = addr32 ? 0xffffffffn : M64;
  const junk = (): bigint => (addr32 ? rng.u64() & 0xffffffff00000000n : 0n);
  const set = (r: number, v: bigint): void => { gprs[r] = (v & mask) | junk(); };
  const scaleBits = rng.below(4), scale = 1n << BigInt(scaleBits);
  const pickIndex = (avoid: number): number => { for (;;) { const i = rng.below(16); if (i !== 4 && i !== avoid) return i; } };
  const disp8 = (): number => rng.below(256) - 128;
  const disp32 = (): number => rng.u32() | 0;
  const d32 = (v: number): number[] => le(BigInt.asUintN(32, BigInt(v)), 4);
  switch (rng.below(7)) {
    case 0: case 1: case 2: {
      const b = rng.below(16);
      let kind = rng.below(3);
      if (kind === 0 && (b & 7) === 5) kind = 1;   // [rbp]/[r13] has no mod-0 form
      const disp = kind === 0 ? 0 : kind === 1 ? disp8() : disp32();
      set(b, linear - BigInt(disp));
      const mod = kind;
      const sib = (b & 7) === 4 ? (0 << 6) | (4 << 3) | 4 : undefined;
      return { mod, rm: (b & 7) === 4 ? 4 : b & 7, sib, disp: kind === 0 ? [] : kind === 1 ? [disp & 0xff] : d32(disp), rexX: false, rexB: b >= 8, ripRel: false, what: `[r${b}${kind ? '+disp' + (kind === 1 ? 8 : 32) : ''}]` };
    }
    case 3: {
      const b = rng.below(16), i = pickIndex(b);
      let kind = rng.below(3);
      if (kind === 0 && (b & 7) === 5) kind = 1;
      const disp = kind === 0 ? 0 : kind === 1 ? disp8() : disp32();
      const v = edgyValue(rng) & mask;
      gprs[i] = v | junk();
      set(b, linear - v * scale - BigInt(disp));
      return { mod: kind, rm: 4, sib: (scaleBits << 6) | ((i & 7) << 3) | (b & 7), disp: kind === 0 ? [] : kind === 1 ? [disp & 0xff] : d32(disp), rexX: i >= 8, rexB: b >= 8, ripRel: false, what: `[r${b}+r${i}*${scale}${kind ? '+disp' : ''}]` };
    }
    case 4: {
      const i = pickIndex(-1);
      const v = BigInt(rng.below(0x20000) - 0x10000);
      const disp = Number(BigInt.asIntN(64, linear - v * scale));
      gprs[i] = (BigInt.asUintN(64, v) & mask) | junk();
      return { mod: 0, rm: 4, sib: (scaleBits << 6) | ((i & 7) << 3) | 5, disp: d32(disp), rexX: i >= 8, rexB: false, ripRel: false, what: `[r${i}*${scale}+disp32]` };
    }
    case 5:
      return { mod: 0, rm: 4, sib: (4 << 3) | 5, disp: d32(Number(linear)), rexX: false, rexB: false, ripRel: false, what: '[disp32]' };
    default:
      return { mod: 0, rm: 5, disp: [0, 0, 0, 0], rexX: false, rexB: false, ripRel: true, what: '[rip+disp32]' };
  }
}

function immBytes(rng: Rng, kind: 'b' | 'z' | 'bs', opSize: number): number[] {
  const n = kind === 'z' ? (opSize === 2 ? 2 : 4) : 1;
  return le(edgyValue(rng), n);
}

export function generateCase(rng: Rng, forms: readonly Form[] = FORMS): DiffCase {
  const form = rng.pick(forms);
  const gprs = Array.from({ length: 16 }, () => edgyValue(rng));
  gprs[4] = BigInt(DIFF_LAYOUT.STACK);
  let rflags = 0x202n | BigInt(rng.u32() & ARITH_FLAGS);
  if (rng.below(2)) rflags |= BigInt(DF);
  const opSize = form.byteOp ? 1 : rng.pick(form.sizes ?? [2, 4, 8]);
  const addr32 = rng.below(8) === 0;
  const dataInit = rng.bytes(4096), bufInit = rng.bytes(4096);
  const prefixes: number[] = [];
  if (opSize === 2) prefixes.push(0x66);
  if (addr32) prefixes.push(0x67);
  if (rng.below(8) === 0) prefixes.push(rng.pick([0x26, 0x2e, 0x36, 0x3e]));   // ignored in 64-bit mode
  let rex = opSize === 8 ? 0x48 : 0;
  if (form.byteOp && rng.below(3) === 0) rex |= 0x40;
  const op = form.twoByte ? [0x0f, form.opcode] : [form.opcode];
  const t = rng.below(4096 - 8);
  const linear = BigInt(DIFF_LAYOUT.DATA + t);
  let body: number[];
  let what: string;
  let ripFix = -1;

  if (form.kind === 'STR') {
    const rep = rng.pick([0, 0xf3, 0xf2]);
    if (rep) prefixes.push(rep);
    const n = rep ? 1 + rng.below(8) : 1;
    const mask = addr32 ? 0xffffffffn : M64;
    const junk = (): bigint => (addr32 ? rng.u64() & 0xffffffff00000000n : 0n);
    const place = (page: number): number => page + 0x100 + rng.below(0xe00);
    const mmioSrc = form.str === 'lods' || ((form.str === 'movs' || form.str === 'cmps') && rng.below(3) !== 1);
    const mmioDst = form.str === 'stos' || ((form.str === 'movs' || form.str === 'cmps') && !mmioSrc) || rng.below(3) === 0;
    const src = place(mmioSrc ? DIFF_LAYOUT.DATA : DIFF_LAYOUT.BUF);
    const dst = place(mmioDst ? DIFF_LAYOUT.DATA : DIFF_LAYOUT.BUF);
    gprs[6] = BigInt(src) & mask | junk();
    gprs[7] = BigInt(dst) & mask | junk();
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
    body = [...(rex ? [rex] : []), ...op, ...le(linear, addr32 ? 4 : 8)];
    what = `moffs${addr32 ? 32 : 64}`;
  } else {
    const reg = form.kind === 'EI' ? form.digit! : rng.below(16);
    const m = encodeMem(rng, linear, addr32, gprs);
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
    const disp = BigInt.asUintN(32, linear - next);
    bytes.set(le(disp, 4), ripFix);
  }
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { form, desc: `${form.name} size=${opSize}${addr32 ? ' a32' : ''} ${what} (${hex})`, bytes, gprs, rflags, dataInit, bufInit };
}
