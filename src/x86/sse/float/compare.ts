/**
 * Comparisons on one lane: MIN/MAX, the CMPPS predicates and COMISS/UCOMISS.
 * None rounds; they raise IE (NaN operands, per the instruction's quiet/signalling rule) and DE.
 */
import { Kind, isNaN, unpack, type FloatFormat, type Unpacked } from './format.js';
import type { FpContext } from './context.js';
import { DE, IE } from './mxcsr.js';

/** -1, 0, 1 for a < b, a == b, a > b; both non-NaN (zeros of either sign are equal). */
export function compareOrdered(a: Unpacked, b: Unpacked): -1 | 0 | 1 {
  const az = a.kind === Kind.Zero, bz = b.kind === Kind.Zero;
  if (az && bz) return 0;
  if (az) return b.sign ? 1 : -1;
  if (bz) return a.sign ? -1 : 1;
  if (a.sign !== b.sign) return a.sign ? -1 : 1;
  const mag = compareMagnitude(a, b);
  return (a.sign ? -mag : mag) as -1 | 0 | 1;
}

function compareMagnitude(a: Unpacked, b: Unpacked): -1 | 0 | 1 {
  if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
    return a.kind === b.kind ? 0 : a.kind === Kind.Inf ? 1 : -1;
  }
  // Compare sig*2^exp: align on the smaller exponent (values are < 2^1100, so this is cheap enough).
  const e = Math.min(a.exp, b.exp);
  const av = a.sig << BigInt(a.exp - e), bv = b.sig << BigInt(b.exp - e);
  return av === bv ? 0 : av > bv ? 1 : -1;
}

/**
 * MINPS/MAXPS lane: the second operand when either is a NaN (of any kind, raising IE) or both are
 * zeros; otherwise the smaller/larger. The chosen operand is returned as read, DAZ applied.
 */
export function minMax(ctx: FpContext, f: FloatFormat, ra: bigint, rb: bigint, max: boolean): bigint {
  const a = unpack(f, ra, ctx.daz), b = unpack(f, rb, ctx.daz);
  let pickA = false;
  if (isNaN(a) || isNaN(b)) {
    ctx.raise(IE);
  } else {
    if (a.denormal || b.denormal) ctx.raise(DE);
    const c = compareOrdered(a, b);
    pickA = max ? c > 0 : c < 0;
  }
  const u = pickA ? a : b;
  // DAZ reads a subnormal as a zero of its sign, and that zero is what gets written.
  return u.kind === Kind.Zero ? u.raw & f.signBit : u.raw;
}

/**
 * The outcome of comparing two lanes: 'lt' | 'eq' | 'gt' | 'un' (unordered), raising IE for SNaN
 * operands (quiet comparison) or for any NaN (signalling), and DE for subnormal operands.
 */
export type Relation = 'lt' | 'eq' | 'gt' | 'un';

export function relate(ctx: FpContext, f: FloatFormat, ra: bigint, rb: bigint, signalling: boolean): Relation {
  const a = unpack(f, ra, ctx.daz), b = unpack(f, rb, ctx.daz);
  if (isNaN(a) || isNaN(b)) {
    if (signalling || a.kind === Kind.SNaN || b.kind === Kind.SNaN) ctx.raise(IE);
    return 'un';
  }
  if (a.denormal || b.denormal) ctx.raise(DE);
  const c = compareOrdered(a, b);
  return c < 0 ? 'lt' : c > 0 ? 'gt' : 'eq';
}

/** CMPPS imm8[2:0] predicates: [name, signalling, true for lt, eq, gt, un]. */
const PREDICATES: readonly (readonly [string, boolean, boolean, boolean, boolean, boolean])[] = [
  ['eq', false, false, true, false, false],
  ['lt', true, true, false, false, false],
  ['le', true, true, true, false, false],
  ['unord', false, false, false, false, true],
  ['neq', false, true, false, true, true],
  ['nlt', true, false, true, true, true],
  ['nle', true, false, false, true, true],
  ['ord', false, true, true, true, false],
];

/** Whether CMPPS predicate imm8[2:0] holds for relation r (legacy SSE reads only those 3 bits). */
export function predicateHolds(imm8: number, r: Relation): boolean {
  const [, , lt, eq, gt, un] = PREDICATES[imm8 & 7];
  return r === 'lt' ? lt : r === 'eq' ? eq : r === 'gt' ? gt : un;
}

/** CMPPS lane: all ones when predicate imm8[2:0] holds, else zero. */
export function comparePredicate(ctx: FpContext, f: FloatFormat, ra: bigint, rb: bigint, imm8: number): bigint {
  const r = relate(ctx, f, ra, rb, PREDICATES[imm8 & 7][1]);
  return predicateHolds(imm8, r) ? (1n << BigInt(f.bytes * 8)) - 1n : 0n;
}

export const RELATION_OF: readonly Relation[] = ['lt', 'eq', 'gt'];

/** EFLAGS bits COMISS/UCOMISS set: ZF PF CF; OF SF AF are cleared. */
export const COMIS_FLAGS: Readonly<Record<Relation, number>> = { un: 0x45, gt: 0, lt: 0x01, eq: 0x40 };
