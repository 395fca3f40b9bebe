/**
 * The MMU walker (gvaToGpa). Pure core in walker.ts (non-throwing, structured faults: what the
 * soft CPU uses for its #PF); this module adds the throwing forms and translateGva over a Vcpu.
 *
 * Soft CPU / fast callers:
 *   const r = walk(pagingRegs, physMemory, gvaHi, gvaLo, ACCESS_WRITE | ACCESS_USER | ACCESS_SET_AD);
 *   if (r.ok) use r.gpa, r.prot (PROT_* bits), r.pageSize (for a TLB);
 *   else inject r.vector with r.errorCode (CR2 = the GVA for #PF).
 * PagingRegs holds CR0/CR3/CR4/EFER/RFLAGS as numbers (pagingRegsOf(state) builds one);
 * PhysMemory is { read32, write32? } over guest-physical memory (physMemoryOf / physMemoryOfBytes).
 */
import type { GvaTranslation } from '../../api/types.js';
import { State } from '../../api/types.js';
import { VmmError } from '../../api/errors.js';
import type { GuestCpu } from './guest-cpu.js';
import { physMemoryOf, type PhysMemory } from './phys-memory.js';
import {
  type PagingRegs, pagingRegsOf, ACCESS_FETCH, ACCESS_IMPLICIT, ACCESS_PROBE, ACCESS_SET_AD, ACCESS_USER,
  ACCESS_WRITE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE,
} from './paging-regs.js';
import { walk, type WalkOk } from './walker.js';
import { TranslationError } from './translation-error.js';

export * from './paging-regs.js';
export * from './phys-memory.js';
export * from './walker.js';
export { TranslationError } from './translation-error.js';
export type { GuestCpu } from './guest-cpu.js';

/** The access to check in translateGva; omit it to translate without a permission check. */
export interface GvaAccess {
  write?: boolean;
  exec?: boolean;
  /** CPL3 access; default: the vCPU's current CPL (CS.DPL) is 3. */
  user?: boolean;
  /** A supervisor access made by the CPU itself (SMAP ignores RFLAGS.AC). */
  implicit?: boolean;
  /** Set Accessed/Dirty bits like hardware. */
  setAccessedDirty?: boolean;
}

const TWO32 = 4294967296;

/**
 * Splits a GVA into [int32 high, uint32 low]. Accepts a bigint, or a number that is a signed
 * (ExecContext style) or unsigned 64-bit address exactly representable as a double.
 */
export function splitGva(gva: number | bigint): [number, number] {
  if (typeof gva === 'bigint') {
    const v = BigInt.asUintN(64, gva);
    if (v !== gva && BigInt.asIntN(64, gva) !== gva) throw new VmmError('EINVAL', `GVA ${gva} does not fit in 64 bits`);
    return [Number(v >> 32n) | 0, Number(v & 0xffffffffn) >>> 0];
  }
  if (!Number.isInteger(gva) || gva < -(2 ** 63) || gva >= 2 ** 64) {
    throw new VmmError('EINVAL', `GVA ${gva} is not a 64-bit integer address`);
  }
  const g = gva >= 2 ** 63 ? gva - 2 ** 64 : gva;
  const hi = Math.floor(g / TWO32);
  return [hi | 0, (g - hi * TWO32) >>> 0];
}

export function accessBits(access: GvaAccess | undefined, cpl: number): number {
  if (!access) return ACCESS_PROBE;
  let bits = 0;
  if (access.write) bits |= ACCESS_WRITE;
  if (access.exec) bits |= ACCESS_FETCH;
  if (access.user ?? cpl === 3) bits |= ACCESS_USER;
  if (access.implicit) bits |= ACCESS_IMPLICIT;
  if (access.setAccessedDirty) bits |= ACCESS_SET_AD;
  return bits;
}

/** Throwing walk: the translation, or TranslationError (VmmError 'EFAULT'). */
export function translate(regs: PagingRegs, mem: PhysMemory, gvaHi: number, gvaLo: number, access: number): WalkOk {
  const r = walk(regs, mem, gvaHi, gvaLo, access);
  if (!r.ok) throw new TranslationError(r);
  return r;
}

export function protObject(prot: number): GvaTranslation['prot'] {
  return {
    read: (prot & PROT_READ) !== 0, write: (prot & PROT_WRITE) !== 0,
    exec: (prot & PROT_EXEC) !== 0, user: (prot & PROT_USER) !== 0,
  };
}

/**
 * cpu.gvaToGpa: translates gva with the vCPU's current paging state. Not present, a protection
 * violation for the given access, a reserved bit or a non-canonical address -> TranslationError
 * (VmmError 'EFAULT', with .fault). maxPhyAddr: see PagingRegs.
 */
export function translateGva(cpu: GuestCpu, gva: number | bigint, access?: GvaAccess, maxPhyAddr = 52): GvaTranslation {
  const [hi, lo] = splitGva(gva);
  const st = cpu.getState(State.CRS | State.MSRS | State.GPRS | (access && access.user === undefined ? State.SEGS : 0));
  if (!st.crs || !st.msrs || !st.gprs) throw new VmmError('EINVAL', 'getState did not return the CRS/MSRS/GPRS groups');
  const regs = pagingRegsOf({ crs: st.crs, msrs: st.msrs, gprs: st.gprs }, maxPhyAddr);
  const r = translate(regs, physMemoryOf((gpa) => cpu.machine.gpaToHost(gpa)), hi, lo, accessBits(access, st.segs?.cs.dpl ?? 0));
  return { gpa: r.gpa, prot: protObject(r.prot) };
}
