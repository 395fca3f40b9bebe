/**
 * The control-register bits the page-table walker depends on, as plain numbers (no BigInt), and
 * the access-kind flags. Access flags use the #PF error-code bit positions (W=1<<1, U=1<<2,
 * I=1<<4) so a fault's error code is built from them directly.
 */
import type { VcpuState } from '../../api/types.js';

export interface PagingRegs {
  /** CR0 low 32 bits (PG bit 31, WP bit 16). */
  cr0: number;
  /** CR3 as two halves (uint32 low, high 32 bits). */
  cr3Lo: number;
  cr3Hi: number;
  /** CR4 low 32 bits (PSE 4, PAE 5, LA57 12, SMEP 20, SMAP 21). */
  cr4: number;
  /** EFER low 32 bits (LME 8, LMA 10, NXE 11). */
  efer: number;
  /** RFLAGS low 32 bits (AC bit 18 matters for SMAP). */
  rflags: number;
  /**
   * MAXPHYADDR: physical-address bits above it in an entry are reserved. 52 (the architectural
   * maximum) never mis-flags a valid address; pass the CPU's CPUID.80000008H:EAX[7:0] to be exact.
   */
  maxPhyAddr: number;
}

export const CR0_WP = 1 << 16, CR0_PG = 1 << 31;
export const CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_LA57 = 1 << 12, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
export const EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;
export const RFLAGS_AC = 1 << 18;

/** #PF error-code bits. */
export const PFEC_P = 1 << 0, PFEC_W = 1 << 1, PFEC_U = 1 << 2, PFEC_RSVD = 1 << 3, PFEC_I = 1 << 4;

/** Access kinds (combine with |). A read by supervisor code is ACCESS_READ (0). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = PFEC_W;
export const ACCESS_USER = PFEC_U;
export const ACCESS_FETCH = PFEC_I;
/** A supervisor access the CPU makes on its own (GDT/IDT/TSS): SMAP applies even with RFLAGS.AC=1. */
export const ACCESS_IMPLICIT = 1 << 8;
/** Set Accessed bits in the entries used, and Dirty in the final one for a write, as hardware does. */
export const ACCESS_SET_AD = 1 << 9;
/** Translate only: report the protection, check no permission (presence and reserved bits still are). */
export const ACCESS_PROBE = 1 << 10;

/** Effective protection bits of a translation. */
export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, PROT_USER = 8;

export type PagingMode = 'none' | '32bit' | 'pae' | 'long4' | 'long5';

export function pagingMode(r: PagingRegs): PagingMode {
  if (!(r.cr0 & CR0_PG)) return 'none';
  if (r.efer & (EFER_LMA | EFER_LME)) return r.cr4 & CR4_LA57 ? 'long5' : 'long4';
  return r.cr4 & CR4_PAE ? 'pae' : '32bit';
}

const lo32 = (v: bigint): number => Number(v & 0xffffffffn) >>> 0;

/** The PagingRegs of a vCPU state (groups CRS, MSRS and GPRS). */
export function pagingRegsOf(state: Pick<VcpuState, 'crs' | 'msrs' | 'gprs'>, maxPhyAddr = 52): PagingRegs {
  return {
    cr0: lo32(state.crs.cr0) | 0,
    cr3Lo: lo32(state.crs.cr3),
    cr3Hi: Number((state.crs.cr3 >> 32n) & 0xffffffffn) | 0,
    cr4: lo32(state.crs.cr4) | 0,
    efer: lo32(state.msrs.efer) | 0,
    rflags: lo32(state.gprs.rflags) | 0,
    maxPhyAddr,
  };
}
