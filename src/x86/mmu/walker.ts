/**
 * The x86 page-table walker, pure: it sees guest memory only through PhysMemory and the CPU only
 * through PagingRegs. Modes: none (identity), 32-bit (4 KiB, 4 MiB with CR4.PSE, PSE-36 high
 * address bits up to MAXPHYADDR or 40), PAE (4 KiB / 2 MiB), 4-level long mode (4 KiB / 2 MiB /
 * 1 GiB, canonical check at bit 47) and 5-level (LA57, canonical check at bit 56).
 *
 * For the soft CPU and anyone who must not throw: walk() returns either
 *   { ok: true, gpa, prot, pageSize, global } prot = PROT_READ|WRITE|EXEC|USER narrowed along the walk;
 *                                            global: the leaf's G bit with CR4.PGE (a MOV to CR3 keeps it)
 *   { ok: false, kind, vector, errorCode, level, reason }
 * where vector is 14 (#PF, errorCode has P/W/U/RSVD/I exactly as hardware would push them) or 13
 * (#GP(0) for a non-canonical address). kind 'table-not-in-ram' (an entry's GPA is not backed by
 * RAM) has no hardware equivalent; it is reported as a not-present #PF.
 *
 * The access argument is a mask of ACCESS_* (paging-regs.ts): WRITE, USER (CPL3 access), FETCH,
 * IMPLICIT (CPU-made supervisor access: SMAP ignores RFLAGS.AC), SET_AD (update Accessed/Dirty like
 * hardware: A in every entry used, as it is used; D in the leaf on a permitted write) and PROBE
 * (no permission check). Permission rules follow the SDM (4.6): U/S and R/W must be 1 at every
 * level; CR0.WP makes supervisor writes honour R/W; SMEP forbids supervisor fetches from user
 * pages; SMAP forbids supervisor data accesses to user pages unless RFLAGS.AC=1 (explicit accesses);
 * XD (bit 63) forbids fetches when EFER.NXE=1 and is a reserved bit when NXE=0 (PAE/long modes).
 *
 * Limits (documented, not silent): PAE PDPTEs are read from memory at each walk rather than cached
 * at MOV CR3; protection keys and shadow stacks are not modelled.
 * No BigInt: entries are read as two 32-bit halves; GPAs are numbers (< 2^52).
 */
import type { PhysMemory } from './phys-memory.js';
import {
  type PagingRegs, pagingMode, ACCESS_FETCH, ACCESS_IMPLICIT, ACCESS_PROBE, ACCESS_SET_AD, ACCESS_USER,
  ACCESS_WRITE, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_NXE, PFEC_I, PFEC_P, PFEC_RSVD, PFEC_U,
  PFEC_W, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE, RFLAGS_AC,
} from './paging-regs.js';

export interface WalkOk { ok: true; gpa: number; prot: number; pageSize: number; global: boolean }
export type WalkFaultKind = 'not-present' | 'protection' | 'reserved' | 'non-canonical' | 'table-not-in-ram';
export interface WalkFault {
  ok: false;
  kind: WalkFaultKind;
  /** 14 (#PF) or 13 (#GP for a non-canonical address). */
  vector: 13 | 14;
  /** #PF error code (P W U RSVD I); 0 for #GP. */
  errorCode: number;
  /** Paging level of the entry at fault (1 = PTE ... 5 = PML5E; 0 when none). */
  level: number;
  reason: string;
}
export type WalkResult = WalkOk | WalkFault;

const TWO32 = 4294967296;
const P = 0x1, RW = 0x2, US = 0x4, ACC = 0x20, DIRTY = 0x40, PS = 0x80, GLOBAL = 0x100;
const XD_HI = 0x80000000 | 0;
const LEVEL_NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E', 'PML5E'];

/** Walk state, module-level so a walk allocates only its result (walks never nest). */
let entLo = 0, entHi = 0;
let allUser = true, allWrite = true, anyXd = false;
let leafAddr = 0;

function hexn(v: number): string {
  return '0x' + v.toString(16);
}

function readEntry(mem: PhysMemory, gpa: number, wide: boolean): boolean {
  const lo = mem.read32(gpa);
  if (lo === undefined) return false;
  entLo = lo | 0;
  if (wide) {
    const hi = mem.read32(gpa + 4);
    if (hi === undefined) return false;
    entHi = hi | 0;
  } else entHi = 0;
  return true;
}

function fault(kind: WalkFaultKind, r: PagingRegs, access: number, level: number, reason: string): WalkFault {
  if (kind === 'non-canonical') return { ok: false, kind, vector: 13, errorCode: 0, level, reason };
  let ec = access & (PFEC_W | PFEC_U);
  if (kind === 'protection' || kind === 'reserved') ec |= PFEC_P;
  if (kind === 'reserved') ec |= PFEC_RSVD;
  if ((access & ACCESS_FETCH) && ((r.cr4 & CR4_SMEP) || ((r.cr4 & CR4_PAE) && (r.efer & EFER_NXE)))) ec |= PFEC_I;
  return { ok: false, kind, vector: 14, errorCode: ec, level, reason };
}

/** Folds an entry's U/S, R/W and XD into the running protection and sets its Accessed bit. */
function useEntry(mem: PhysMemory, r: PagingRegs, gpa: number, access: number): void {
  if (!(entLo & US)) allUser = false;
  if (!(entLo & RW)) allWrite = false;
  if ((entHi & XD_HI) && (r.efer & EFER_NXE)) anyXd = true;
  if ((access & ACCESS_SET_AD) && !(entLo & ACC) && mem.write32) {
    entLo |= ACC;
    mem.write32(gpa, entLo);
  }
  leafAddr = gpa;
}

function notPresent(r: PagingRegs, access: number, level: number, gpa: number, gvaText: string): WalkFault {
  return fault('not-present', r, access, level, `${LEVEL_NAMES[level]} at GPA ${hexn(gpa)} for GVA ${gvaText} is not present`);
}
function reserved(r: PagingRegs, access: number, level: number, gpa: number, gvaText: string, what: string): WalkFault {
  return fault('reserved', r, access, level,
    `${LEVEL_NAMES[level]} at GPA ${hexn(gpa)} for GVA ${gvaText} has reserved bits set (${what}): ` +
    `${hexn(entHi >>> 0)}_${(entLo >>> 0).toString(16).padStart(8, '0')}`);
}
function outsideRam(r: PagingRegs, access: number, level: number, gpa: number, gvaText: string): WalkFault {
  return fault('table-not-in-ram', r, access, level, `${LEVEL_NAMES[level]} for GVA ${gvaText} is at GPA ${hexn(gpa)}, which is not guest RAM`);
}

export function gvaText(gvaHi: number, gvaLo: number): string {
  return '0x' + (gvaHi >>> 0).toString(16).padStart(8, '0') + '_' + (gvaLo >>> 0).toString(16).padStart(8, '0');
}

/** Mask of the entry high-half bits that hold physical-address bits 32..MAXPHYADDR-1. */
function physHiMask(r: PagingRegs): number {
  const n = Math.min(Math.max(r.maxPhyAddr, 32), 52) - 32;
  return n === 0 ? 0 : (0xffffffff >>> (32 - n));
}

/**
 * Translates the linear address gvaHi:gvaLo (int32 high half, uint32 low half; 16/32-bit linear
 * addresses have gvaHi = 0) for the given access. Never throws (PhysMemory.write32 aside).
 */
export function walk(r: PagingRegs, mem: PhysMemory, gvaHi: number, gvaLo: number, access: number): WalkResult {
  allUser = true; allWrite = true; anyXd = false;
  gvaLo >>>= 0;
  let frameHi = 0, frameLo = 0, offMask = 0xfff, pageSize = 4096;
  const mode = pagingMode(r);
  switch (mode) {
    case 'none':
      return { ok: true, gpa: gvaLo, prot: PROT_READ | PROT_WRITE | PROT_EXEC | PROT_USER, pageSize: 4096, global: false };
    case '32bit': {
      const pdeAddr = (r.cr3Lo & 0xfffff000) + (gvaLo >>> 22) * 4;
      if (!readEntry(mem, pdeAddr >>> 0, false)) return outsideRam(r, access, 2, pdeAddr >>> 0, gvaText(gvaHi, gvaLo));
      if (!(entLo & P)) return notPresent(r, access, 2, pdeAddr >>> 0, gvaText(gvaHi, gvaLo));
      if ((r.cr4 & CR4_PSE) && (entLo & PS)) {
        // 4 MiB page; PSE-36: bits 20:13 give physical bits 39:32, those beyond MAXPHYADDR and bit 21 are reserved.
        const n = Math.min(Math.max(r.maxPhyAddr, 32), 40) - 32;
        const rsv = (0x3fe000 >>> (13 + n)) << (13 + n);
        if (entLo & rsv) return reserved(r, access, 2, pdeAddr >>> 0, gvaText(gvaHi, gvaLo), '4 MiB PDE bits 21:13 beyond MAXPHYADDR');
        useEntry(mem, r, pdeAddr >>> 0, access);
        frameHi = (entLo >>> 13) & ((1 << n) - 1);
        frameLo = entLo & 0xffc00000;
        offMask = 0x3fffff; pageSize = 4 << 20;
        break;
      }
      useEntry(mem, r, pdeAddr >>> 0, access);
      const pteAddr = ((entLo & 0xfffff000) >>> 0) + ((gvaLo >>> 12) & 0x3ff) * 4;
      if (!readEntry(mem, pteAddr, false)) return outsideRam(r, access, 1, pteAddr, gvaText(gvaHi, gvaLo));
      if (!(entLo & P)) return notPresent(r, access, 1, pteAddr, gvaText(gvaHi, gvaLo));
      useEntry(mem, r, pteAddr, access);
      frameLo = entLo & 0xfffff000;
      break;
    }
    case 'pae': {
      const hiMask = physHiMask(r);
      const pdpteAddr = ((r.cr3Lo & 0xffffffe0) >>> 0) + (gvaLo >>> 30) * 8;
      if (!readEntry(mem, pdpteAddr, true)) return outsideRam(r, access, 3, pdpteAddr, gvaText(gvaHi, gvaLo));
      if (!(entLo & P)) return notPresent(r, access, 3, pdpteAddr, gvaText(gvaHi, gvaLo));
      if ((entLo & 0x1e6) || (entHi & ~hiMask)) {
        return reserved(r, access, 3, pdpteAddr, gvaText(gvaHi, gvaLo), 'PAE PDPTE bits 2:1, 8:5 or 63:MAXPHYADDR');
      }
      const rsvHi = (~hiMask & 0x7fffffff) | (r.efer & EFER_NXE ? 0 : XD_HI);
      const f = walkLevels(r, mem, (entHi & hiMask) * TWO32 + ((entLo & 0xfffff000) >>> 0), 2, gvaHi, gvaLo, access, rsvHi, hiMask);
      if (f) return f;
      ({ frameHi, frameLo, offMask, pageSize } = leaf);
      break;
    }
    case 'long4':
    case 'long5': {
      const levels = mode === 'long5' ? 5 : 4;
      const top = gvaHi >> (levels === 5 ? 24 : 15);
      if (top !== 0 && top !== -1) {
        return fault('non-canonical', r, access, 0, `GVA ${gvaText(gvaHi, gvaLo)} is not canonical for ${levels}-level paging`);
      }
      const hiMask = physHiMask(r);
      const rsvHi = (~hiMask & 0x000fffff) | (r.efer & EFER_NXE ? 0 : XD_HI);
      const f = walkLevels(r, mem, (r.cr3Hi & hiMask) * TWO32 + ((r.cr3Lo & 0xfffff000) >>> 0), levels, gvaHi, gvaLo, access, rsvHi, hiMask);
      if (f) return f;
      ({ frameHi, frameLo, offMask, pageSize } = leaf);
      break;
    }
  }
  const prot = PROT_READ | (allWrite ? PROT_WRITE : 0) | (anyXd ? 0 : PROT_EXEC) | (allUser ? PROT_USER : 0);
  const gpa = frameHi * TWO32 + (((frameLo & ~offMask) | (gvaLo & offMask)) >>> 0);
  if (!(access & ACCESS_PROBE)) {
    const why = denied(r, access, allUser, allWrite, anyXd);
    if (why) return fault('protection', r, access, 1, `${why} at GVA ${gvaText(gvaHi, gvaLo)}`);
  }
  if ((access & ACCESS_SET_AD) && (access & ACCESS_WRITE) && !(entLo & DIRTY) && mem.write32) {
    entLo |= DIRTY | ACC;
    mem.write32(leafAddr, entLo);
  }
  return { ok: true, gpa, prot, pageSize, global: (r.cr4 & CR4_PGE) !== 0 && (entLo & GLOBAL) !== 0 };
}

/** The leaf found by walkLevels. */
const leaf = { frameHi: 0, frameLo: 0, offMask: 0, pageSize: 0 };

/**
 * The 64-bit-entry levels shared by PAE (from the PD, level 2) and long mode (from level 4 or 5):
 * fills leaf, or returns the fault. rsvHi: the reserved bits of an entry's high half.
 */
function walkLevels(r: PagingRegs, mem: PhysMemory, tableAddr: number, top: number, gvaHi: number, gvaLo: number,
  access: number, rsvHi: number, hiMask: number): WalkFault | undefined {
  for (let level = top; level >= 1; level--) {
    let idx: number;
    switch (level) {
      case 5: idx = (gvaHi >>> 16) & 0x1ff; break;
      case 4: idx = (gvaHi >>> 7) & 0x1ff; break;
      case 3: idx = ((gvaHi & 0x7f) << 2) | (gvaLo >>> 30); break;
      case 2: idx = (gvaLo >>> 21) & 0x1ff; break;
      default: idx = (gvaLo >>> 12) & 0x1ff;
    }
    const addr = tableAddr + idx * 8;
    if (!readEntry(mem, addr, true)) return outsideRam(r, access, level, addr, gvaText(gvaHi, gvaLo));
    if (!(entLo & P)) return notPresent(r, access, level, addr, gvaText(gvaHi, gvaLo));
    if (entHi & rsvHi) return reserved(r, access, level, addr, gvaText(gvaHi, gvaLo), 'physical-address bits beyond MAXPHYADDR, or XD with EFER.NXE=0');
    leaf.frameHi = entHi & hiMask;
    if (entLo & PS) {
      if (level >= 4) return reserved(r, access, level, addr, gvaText(gvaHi, gvaLo), 'PS must be 0');
      if (level === 3) {
        if (entLo & 0x3fffe000) return reserved(r, access, 3, addr, gvaText(gvaHi, gvaLo), '1 GiB PDPTE bits 29:13');
        useEntry(mem, r, addr, access);
        leaf.frameLo = entLo & 0xc0000000; leaf.offMask = 0x3fffffff; leaf.pageSize = 1 << 30;
        return undefined;
      }
      if (level === 2) {
        if (entLo & 0x1fe000) return reserved(r, access, 2, addr, gvaText(gvaHi, gvaLo), '2 MiB PDE bits 20:13');
        useEntry(mem, r, addr, access);
        leaf.frameLo = entLo & 0xffe00000; leaf.offMask = 0x1fffff; leaf.pageSize = 2 << 20;
        return undefined;
      }
    }
    useEntry(mem, r, addr, access);
    leaf.frameLo = entLo & 0xfffff000;
    tableAddr = leaf.frameHi * TWO32 + (leaf.frameLo >>> 0);
  }
  leaf.offMask = 0xfff; leaf.pageSize = 4096;
  return undefined;
}

/** Why the access is not allowed on a page with this protection, or '' when it is (SDM 4.6). */
function denied(r: PagingRegs, access: number, user: boolean, writable: boolean, xd: boolean): string {
  const cpl3 = (access & ACCESS_USER) !== 0;
  if (access & ACCESS_FETCH) {
    if (xd) return 'instruction fetch from a no-execute page';
    if (cpl3) return user ? '' : 'user-mode fetch from a supervisor page';
    return user && (r.cr4 & CR4_SMEP) ? 'supervisor fetch from a user page with CR4.SMEP' : '';
  }
  if (cpl3) {
    if (!user) return 'user-mode access to a supervisor page';
    return (access & ACCESS_WRITE) && !writable ? 'user-mode write to a read-only page' : '';
  }
  if (user && (r.cr4 & CR4_SMAP) && (!(r.rflags & RFLAGS_AC) || (access & ACCESS_IMPLICIT))) {
    return 'supervisor data access to a user page with CR4.SMAP';
  }
  if ((access & ACCESS_WRITE) && !writable && (r.cr0 & CR0_WP)) return 'supervisor write to a read-only page with CR0.WP';
  return '';
}
