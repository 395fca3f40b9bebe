/**
 * The CR0/CR4/EFER combinations no CPU can be in, checked across groups before setState reaches
 * a backend: KVM's KVM_SET_SREGS refuses them with a bare EINVAL, while the soft CPU would run
 * them. Refusing here gives one answer on every backend, naming the values.
 * Registers the input leaves out keep their current value, so those are read from the vCPU,
 * only when the input does not already hold all three (CS.L: only outside long mode).
 */
import { VmmError, hex } from '../api/errors.js';
import type { VcpuState, VcpuStateInput } from '../api/types.js';

const CR0_PE = 1n, CR0_NW = 1n << 29n, CR0_CD = 1n << 30n, CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const EFER_LME = 1n << 8n, EFER_LMA = 1n << 10n;

function refuse(rule: string, cr0: bigint, cr4: bigint, efer: bigint): never {
  throw new VmmError('EINVAL', `setState: ${rule} (CR0 ${hex(cr0)}, CR4 ${hex(cr4)}, EFER ${hex(efer)} after this call)`);
}

/** Throws EINVAL when CR0, CR4 and EFER as they would be after applying state cannot coexist. */
export function checkModeControls(
  state: VcpuStateInput, current: () => Partial<VcpuState>, currentSegs: () => Partial<VcpuState> = current,
  physAddrBits = 52,
): void {
  const cr0In = state.crs?.cr0, cr4In = state.crs?.cr4, eferIn = state.msrs?.efer, csLIn = state.segs?.cs?.l;
  const cr3In = state.crs?.cr3;
  if (cr0In === undefined && cr4In === undefined && eferIn === undefined && csLIn === undefined && cr3In === undefined) return;
  let now: Partial<VcpuState> | undefined;
  const cur = (): Partial<VcpuState> => (now ??= current());
  const cr0 = cr0In ?? cur().crs?.cr0 ?? 0n;
  const cr4 = cr4In ?? cur().crs?.cr4 ?? 0n;
  const efer = eferIn ?? cur().msrs?.efer ?? 0n;
  // MOV CR0 raises #GP for these two whatever the rest of the state.
  if ((cr0 & CR0_PG) !== 0n && (cr0 & CR0_PE) === 0n) refuse('CR0.PG (bit 31) without CR0.PE (bit 0)', cr0, cr4, efer);
  if ((cr0 & CR0_NW) !== 0n && (cr0 & CR0_CD) === 0n) refuse('CR0.NW (bit 29) without CR0.CD (bit 30)', cr0, cr4, efer);
  const longPaging = (efer & EFER_LME) !== 0n && (cr0 & CR0_PG) !== 0n;
  if (longPaging && (cr4 & CR4_PAE) === 0n) refuse('long mode (EFER.LME with CR0.PG) without CR4.PAE', cr0, cr4, efer);
  if (longPaging && (efer & EFER_LMA) === 0n) refuse('EFER.LME with CR0.PG but EFER.LMA clear', cr0, cr4, efer);
  const cr3 = longPaging ? cr3In ?? cur().crs?.cr3 ?? 0n : 0n;
  if (cr3 >> BigInt(physAddrBits) !== 0n) {
    refuse(`CR3 ${hex(cr3)} points beyond the ${physAddrBits}-bit physical address space in long mode`, cr0, cr4, efer);
  }
  if (!longPaging && (efer & EFER_LMA) !== 0n) refuse('EFER.LMA without EFER.LME and CR0.PG', cr0, cr4, efer);
  // A 64-bit code segment exists only in long mode (KVM_SET_SREGS refuses it elsewhere).
  if (!longPaging && (csLIn ?? currentSegs().segs?.cs?.l ?? 0) !== 0) refuse('CS.L (64-bit code segment) outside long mode', cr0, cr4, efer);
}
