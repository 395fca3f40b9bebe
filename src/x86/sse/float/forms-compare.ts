/** Comparison forms: CMPPS/PD/SS/SD (imm8 predicate), COMISS/SD and UCOMISS/SD (EFLAGS), MOVMSKPS/PD. */
import { COMIS_FLAGS, RELATION_OF, comparePredicate, predicateHolds, relate } from './compare.js';
import type { FpContext } from './context.js';
import { fastCompare } from './fast-lanes.js';
import { F32, F64, type FloatFormat } from './format.js';
import type { SseFloatForm } from './form.js';
import { getLane, getU32, setLane, setU32 } from './image.js';
import { handler, xmmForm, type FormEntry } from './form-builders.js';
import { copyBytes } from '../vec.js';

/** CMP lane i: the fast comparison when both operands are plain (no flags possible), else exact. */
function cmpLane(ctx: FpContext, f: FloatFormat, dst: Uint8Array, src: Uint8Array, imm: number, o: Uint8Array, i: number): void {
  const c = fastCompare(f, dst, i, src, i);
  if (c !== undefined) {
    const v = predicateHolds(imm, RELATION_OF[c + 1]) ? 0xffffffff : 0;
    for (let w = 0; w < f.bytes / 4; w++) setU32(o, i * (f.bytes / 4) + w, v);
    return;
  }
  setLane(o, f, i, comparePredicate(ctx, f, getLane(dst, f, i), getLane(src, f, i), imm));
}

function cmpForms(): FormEntry[] {
  const out: FormEntry[] = [];
  for (const [prefix, name, f] of [['', 'cmpps', F32], ['66', 'cmppd', F64]] as const) {
    out.push([`${prefix}:1:c2`, xmmForm(name, 16, true, (ctx, dst, src, imm, o) => {
      for (let i = 0; i < 16 / f.bytes; i++) cmpLane(ctx, f, dst, src, imm, o, i);
    }, true)]);
  }
  for (const [prefix, name, f] of [['f3', 'cmpss', F32], ['f2', 'cmpsd', F64]] as const) {
    out.push([`${prefix}:1:c2`, xmmForm(name, f.bytes, true, (ctx, dst, src, imm, o) => {
      copyBytes(o, dst, 16);
      cmpLane(ctx, f, dst, src, imm, o, 0);
    }, true)]);
  }
  return out;
}

/** COMIS* signal IE on any NaN, UCOMIS* only on SNaN. out: the EFLAGS ZF/PF/CF bits (OF SF AF zero). */
function comisForm(mnemonic: string, f: FloatFormat, signalling: boolean): SseFloatForm {
  return {
    mnemonic, dst: 'xmm', src: 'xmm', memSize: f.bytes, aligned: false, registerOnly: false, readsDst: true, imm8: false, writes: 'eflags',
    run: handler((ctx, dst, src, _imm, o) => {
      const c = fastCompare(f, dst, 0, src, 0);
      const r = c !== undefined ? RELATION_OF[c + 1] : relate(ctx, f, getLane(dst, f, 0), getLane(src, f, 0), signalling);
      setU32(o, 0, COMIS_FLAGS[r]);
    }),
  };
}

/** MOVMSKPS/PD: the lanes' sign bits into a general register (no exceptions). */
function movmskForm(mnemonic: string, f: FloatFormat): SseFloatForm {
  return {
    mnemonic, dst: 'gpr', src: 'xmm', gprBytes: 4, memSize: 16, aligned: false, registerOnly: true, readsDst: false, imm8: false, writes: 'dst',
    run: (_env, _dst, src, _imm, o) => {
      let mask = 0;
      for (let i = 0; i < 16 / f.bytes; i++) mask |= (getU32(src, (i + 1) * (f.bytes / 4) - 1) >>> 31) << i;
      o.fill(0, 0, 8);
      setU32(o, 0, mask);
      return 0;
    },
  };
}

export const COMPARE_FORMS: readonly FormEntry[] = [
  ...cmpForms(),
  [':1:2e', comisForm('ucomiss', F32, false)],
  ['66:1:2e', comisForm('ucomisd', F64, false)],
  [':1:2f', comisForm('comiss', F32, true)],
  ['66:1:2f', comisForm('comisd', F64, true)],
  [':1:50', movmskForm('movmskps', F32)],
  ['66:1:50', movmskForm('movmskpd', F64)],
];

/** EFLAGS bits a COMIS/UCOMIS result replaces: CF PF AF ZF SF OF. */
export const COMIS_EFLAGS_MASK = 0x8d5;
