/**
 * The vCPU state as the assists see it: a getState snapshot, the derived code mode and CPL, and
 * conversions between the API's bigint registers and ExecContext's int32 halves.
 */
import { GPR_NAMES, State, type Gprs, type Segment, type Segs, type VcpuState } from '../../api/types.js';
import { VmmError } from '../../api/errors.js';
import type { GuestCpu } from '../mmu/guest-cpu.js';
import { pagingRegsOf, type PagingRegs } from '../mmu/paging-regs.js';

export const REG_COUNT = 17;   // 16 GPRs + RIP, as ExecContext.regs pairs

export function codeModeOf(segs: Segs): 16 | 32 | 64 {
  return segs.cs.l ? 64 : segs.cs.def ? 32 : 16;
}

/** CPL = SS.DPL (exact in protected mode; 0 in real mode where KVM and the soft CPU keep DPL 0). */
export function cplOf(segs: Segs): number {
  return segs.ss.dpl;
}

export function stackSizeOf(segs: Segs, mode: number): 2 | 4 | 8 {
  return mode === 64 ? 8 : segs.ss.def ? 4 : 2;
}

/** Reads groups and fails loudly if the backend left one out. */
export function stateOf<K extends keyof VcpuState>(cpu: GuestCpu, flags: number, keys: K[]): Pick<VcpuState, K> {
  const st = cpu.getState(flags);
  for (const k of keys) if (!st[k]) throw new VmmError('EIO', `getState(${flags}) did not return the ${k} group`);
  return st as Pick<VcpuState, K>;
}

export function pagingOf(cpu: GuestCpu, gprs: Gprs): PagingRegs {
  const st = stateOf(cpu, State.CRS | State.MSRS, ['crs', 'msrs']);
  return pagingRegsOf({ crs: st.crs, msrs: st.msrs, gprs });
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO32 = 4294967296;

/** Stores a uint64 bigint as [lo, hi] int32 halves; one BigInt comparison for the usual values. */
function splitInto(v: bigint, out: Int32Array, i: number): void {
  if (v >= 0n && v <= SAFE) {
    const n = Number(v);
    out[i] = n | 0;   // ToInt32 is modulo 2^32: exact for n < 2^53
    out[i + 1] = Math.floor(n / TWO32) | 0;
  } else {
    out[i] = Number(BigInt.asIntN(32, v));
    out[i + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }
}

/** Loads GPRs and RIP into [lo, hi] int32 pairs (regs[32..33] = RIP). */
export function loadRegs(gprs: Gprs, regs: Int32Array): void {
  for (let i = 0; i < 16; i++) splitInto(gprs[GPR_NAMES[i]!], regs, 2 * i);
  splitInto(gprs.rip, regs, 32);
}

export function pairToBigint(lo: number, hi: number): bigint {
  if (hi >= 0 && hi < 0x200000) return BigInt(hi * TWO32 + (lo >>> 0));
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The registers whose halves differ from before, as a partial gprs for setState. */
export function changedRegs(before: Int32Array, after: Int32Array): Partial<Gprs> {
  const out: Partial<Gprs> = {};
  for (let i = 0; i < REG_COUNT; i++) {
    const lo = after[2 * i]!, hi = after[2 * i + 1]!;
    if (lo !== before[2 * i] || hi !== before[2 * i + 1]) out[i === 16 ? 'rip' : GPR_NAMES[i]!] = pairToBigint(lo, hi);
  }
  return out;
}

/** Segment base as a number (64-bit mode: only FS/GS have one). seg: 0..5 es cs ss ds fs gs. */
const SEG_KEYS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export function segmentOf(segs: Segs, seg: number): Segment {
  const s = SEG_KEYS[seg];
  if (s === undefined) throw new VmmError('EINVAL', `segment number ${seg} is not 0..5`);
  return segs[s];
}
export function segmentBase(segs: Segs, seg: number, mode: number): number {
  if (mode === 64 && seg < 4) return 0;
  const b = segmentOf(segs, seg).base;
  return mode === 64 ? Number(BigInt.asIntN(64, b)) : Number(b & 0xffffffffn);
}
