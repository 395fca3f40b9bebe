/**
 * Argument checks shared by the frontend classes. Each throws VmmError('EINVAL') with a message
 * naming the argument and the bad value, so callers never have to guess what was wrong.
 */
import { VmmError } from '../api/errors.js';
import { describe } from './describe.js';
import { PAGE_SIZE } from './limits.js';

/** An integer number in [lo, hi]. */
export function checkInt(what: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new VmmError('EINVAL', `${what} must be an integer in [${lo}, ${hi}], got ${describe(v)}`);
  }
  return v;
}

/** A bigint in [0, 2^64): an unsigned 64-bit register or address. */
export function checkU64(what: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) {
    throw new VmmError('EINVAL', `${what} must be a bigint in [0, 2^64), got ${describe(v)}`);
  }
  return v;
}

/** An integer number in [lo, hi] that is a multiple of the page size. */
export function checkPageAligned(what: string, v: unknown, lo: number, hi: number): number {
  checkInt(what, v, lo, hi);
  if ((v as number) % PAGE_SIZE !== 0) {
    throw new VmmError('EINVAL', `${what} must be a multiple of ${PAGE_SIZE}, got ${describe(v)}`);
  }
  return v as number;
}

export function checkBool(what: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new VmmError('EINVAL', `${what} must be a boolean, got ${describe(v)}`);
  return v;
}

/** A plain object whose keys are all in `allowed` (catches typos such as { exits: true }). */
export function checkKeys(what: string, v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new VmmError('EINVAL', `${what} must be an object, got ${describe(v)}`);
  }
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) {
      throw new VmmError('EINVAL', `${what} has unknown field ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
    }
  }
  return v as Record<string, unknown>;
}
