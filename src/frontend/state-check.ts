/**
 * Validation of getState flags and setState input. Table-driven: one checker per field, so the
 * rules are data and a new field is one line. Nothing is converted: values must already have the
 * type and range the contract names (bigint for 64-bit registers, numbers for small fields).
 */
import { VmmError } from '../api/errors.js';
import { SEG_NAMES, State } from '../api/types.js';
import type { VcpuState, VcpuStateInput } from '../api/types.js';
import { describe } from './describe.js';
import { checkKeys } from './checks.js';

type Checker = (what: string, v: unknown) => void;

function fail(what: string, rule: string, v: unknown): never {
  throw new VmmError('EINVAL', `${what} must be ${rule}, got ${describe(v)}`);
}

/** A bigint in [0, 2^bits). */
const uBig = (bits: number): Checker => {
  const end = 1n << BigInt(bits);
  return (what, v) => {
    if (typeof v !== 'bigint' || v < 0n || v >= end) fail(what, `a bigint in [0, 2^${bits})`, v);
  };
};
/** An integer number in [0, max]. */
const uNum = (max: number): Checker => (what, v) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(what, `an integer in [0, ${max}]`, v);
};
const bool: Checker = (what, v) => {
  if (typeof v !== 'boolean') fail(what, 'a boolean', v);
};
/** An array of `count` Uint8Arrays of `len` bytes each. */
const byteRows = (count: number, len: number): Checker => (what, v) => {
  if (!Array.isArray(v) || v.length !== count) fail(what, `an array of ${count} Uint8Array(${len})`, v);
  (v as unknown[]).forEach((row, i) => {
    if (!(row instanceof Uint8Array) || row.length !== len) fail(`${what}[${i}]`, `a Uint8Array of ${len} bytes`, row);
  });
};

const u64 = uBig(64);
const u32 = uNum(0xffffffff);

const SEGMENT_FIELDS: Record<string, Checker> = {
  selector: uNum(0xffff), base: u64, limit: u32, type: uNum(15), s: uNum(1), dpl: uNum(3),
  p: uNum(1), avl: uNum(1), l: uNum(1), def: uNum(1), g: uNum(1),
};
/** A whole Segment: every field present (a segment register is loaded as one unit). */
const segment = (limitMax: number): Checker => (what, v) => {
  const obj = checkKeys(what, v, Object.keys(SEGMENT_FIELDS));
  for (const [k, check] of Object.entries(SEGMENT_FIELDS)) {
    if (!(k in obj)) throw new VmmError('EINVAL', `${what}.${k} is missing (a segment is set whole)`);
    check(`${what}.${k}`, obj[k]);
  }
  uNum(limitMax)(`${what}.limit`, obj['limit']);
};

const gprFields = (): Record<string, Checker> => {
  const out: Record<string, Checker> = {};
  for (const k of ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
    'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip']) out[k] = u64;
  // RFLAGS bits 63:22 are reserved zero; a VM entry with them set fails.
  out['rflags'] = uBig(22);
  return out;
};

const segFields = (): Record<string, Checker> => {
  const out: Record<string, Checker> = {};
  for (const k of SEG_NAMES) out[k] = segment(k === 'gdt' || k === 'idt' ? 0xffff : 0xffffffff);
  return out;
};

/** Per group: its State flag and the checker of each field. xcr0 and mxcsr are checked against the capability. */
const GROUPS: Record<keyof VcpuState, { flag: number; fields: Record<string, Checker> }> = {
  gprs: { flag: State.GPRS, fields: gprFields() },
  segs: { flag: State.SEGS, fields: segFields() },
  // CR0 and CR4 bits 63:32 are reserved zero; CR8 holds a 4-bit priority.
  crs: { flag: State.CRS, fields: { cr0: uBig(32), cr2: u64, cr3: u64, cr4: uBig(32), cr8: uBig(4), xcr0: u64 } },
  // DR6/DR7 bits 63:32 are reserved zero (KVM refuses them too).
  drs: { flag: State.DRS, fields: { dr0: u64, dr1: u64, dr2: u64, dr3: u64, dr6: uBig(32), dr7: uBig(32) } },
  msrs: {
    flag: State.MSRS,
    fields: {
      efer: u64, star: u64, lstar: u64, cstar: u64, sfmask: u64, kernelgsbase: u64,
      sysenterCs: u64, sysenterEsp: u64, sysenterEip: u64, pat: u64, tsc: u64,
    },
  },
  intr: { flag: State.INTR, fields: { intShadow: bool, intWindowExiting: bool, nmiWindowExiting: bool, evtPending: bool } },
  fpu: {
    flag: State.FPU,
    fields: {
      fcw: uNum(0xffff), fsw: uNum(0xffff), ftw: uNum(0xff), fop: uNum(0xffff), fip: u64, fdp: u64,
      mxcsr: u32, mxcsrMask: u32, st: byteRows(8, 10), xmm: byteRows(16, 16),
    },
  },
};
const GROUP_NAMES = Object.keys(GROUPS) as (keyof VcpuState)[];

/** getState flags: a non-empty subset of State.ALL. */
export function checkStateFlags(flags: unknown): number {
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags <= 0 || (flags & ~State.ALL) !== 0) {
    throw new VmmError('EINVAL', `state flags must be a non-empty combination of State.* (0x1..0x${State.ALL.toString(16)}), got ${describe(flags)}`);
  }
  return flags;
}

/** The State.* mask of the groups present in a setState input. */
export function flagsOf(state: VcpuStateInput): number {
  let flags = 0;
  for (const g of GROUP_NAMES) if (state[g] !== undefined) flags |= GROUPS[g].flag;
  return flags;
}

/** Limits that depend on the backend (from its capability). */
export interface StateLimits { xcr0Mask: bigint; mxcsrMask: number; cr4Mask: bigint; eferMask: bigint; physAddrBits: number }

/**
 * Checks a setState input and returns the flags to pass to the backend. When flags are given they
 * must name exactly the groups present: a group named but absent, or present but not named, is a
 * caller mistake that would otherwise be silently ignored.
 */
export function checkStateInput(state: unknown, flags: unknown, limits: StateLimits): number {
  const obj = checkKeys('state', state, GROUP_NAMES);
  for (const g of GROUP_NAMES) {
    if (obj[g] === undefined) continue;
    const fields = checkKeys(`state.${g}`, obj[g], Object.keys(GROUPS[g].fields));
    for (const [k, v] of Object.entries(fields)) GROUPS[g].fields[k]!(`state.${g}.${k}`, v);
  }
  checkBackendLimits(obj as VcpuStateInput, limits);
  const present = flagsOf(obj as VcpuStateInput);
  if (present === 0) throw new VmmError('EINVAL', 'setState: the state holds no group (expected one of ' + GROUP_NAMES.join(', ') + ')');
  if (flags === undefined) return present;
  checkStateFlags(flags);
  if (flags !== present) {
    throw new VmmError('EINVAL', `setState: flags 0x${(flags as number).toString(16)} do not match the groups present (0x${present.toString(16)})`);
  }
  return present;
}

function checkBackendLimits(state: VcpuStateInput, limits: StateLimits): void {
  const xcr0 = state.crs?.xcr0;
  if (xcr0 !== undefined) {
    // XCR0 bit 0 (x87) must always be set, and only features the backend supports may be enabled.
    if ((xcr0 & 1n) === 0n) throw new VmmError('EINVAL', `state.crs.xcr0 must have bit 0 (x87) set, got 0x${xcr0.toString(16)}`);
    if ((xcr0 & ~limits.xcr0Mask) !== 0n) {
      throw new VmmError('EINVAL', `state.crs.xcr0 0x${xcr0.toString(16)} enables features outside xcr0Mask 0x${limits.xcr0Mask.toString(16)}`);
    }
  }
  // Control bits the backend does not support: one EINVAL on every backend (KVM's own answer
  // is a bare errno from KVM_SET_SREGS, the soft CPU's would be to run with the bit ignored).
  checkMask('state.crs.cr4', state.crs?.cr4, limits.cr4Mask, 'cr4Mask');
  checkMask('state.msrs.efer', state.msrs?.efer, limits.eferMask, 'eferMask');
  checkCanonicalMsrs(state, limits);
  const mxcsr = state.fpu?.mxcsr;
  if (mxcsr !== undefined && (mxcsr & ~limits.mxcsrMask) !== 0) {
    throw new VmmError('EINVAL', `state.fpu.mxcsr 0x${mxcsr.toString(16)} sets bits outside mxcsrMask 0x${limits.mxcsrMask.toString(16)}`);
  }
}

/** CR4.LA57: with it supported, linear addresses (and so canonical MSR values) have 57 bits. */
const CR4_LA57 = 1n << 12n;
/** MSRs that hold linear addresses and refuse non-canonical values (WRMSR #GP; KVM refuses them too). */
const ADDRESS_MSRS = ['lstar', 'cstar', 'kernelgsbase'] as const;

function checkCanonicalMsrs(state: VcpuStateInput, limits: StateLimits): void {
  const bits = (limits.cr4Mask & CR4_LA57) !== 0n ? 57n : 48n;
  for (const name of ADDRESS_MSRS) {
    const v = state.msrs?.[name];
    if (v === undefined) continue;
    const top = v >> (bits - 1n);
    if (top !== 0n && top !== (1n << (65n - bits)) - 1n) {
      throw new VmmError('EINVAL', `state.msrs.${name} 0x${v.toString(16)} is not a canonical ${bits}-bit address`);
    }
  }
}

function checkMask(what: string, value: bigint | undefined, mask: bigint, maskName: string): void {
  if (value === undefined || (value & ~mask) === 0n) return;
  throw new VmmError('EINVAL', `${what} 0x${value.toString(16)} sets bits 0x${(value & ~mask).toString(16)} the backend does not support (${maskName} 0x${mask.toString(16)})`);
}
