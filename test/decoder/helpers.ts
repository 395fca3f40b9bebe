/** Shared helpers for the decoder tests. */
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';

/** '48 89 c3' -> bytes. */
export function hexBytes(text: string): Uint8Array {
  const parts = text.trim().split(/\s+/).filter((s) => s.length > 0);
  return Uint8Array.from(parts.map((h) => {
    const v = parseInt(h, 16);
    if (!/^[0-9a-f]{2}$/i.test(h) || Number.isNaN(v)) throw new Error(`bad hex byte '${h}'`);
    return v;
  }));
}

/** Asserts fn throws a VmmError with the given code; returns it. */
export function assertVmmError(fn: () => unknown, code: string, what: string): VmmError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VmmError, `${what}: expected VmmError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return e;
  }
  assert.fail(`${what}: expected VmmError ${code}, nothing thrown`);
}

/** A small deterministic PRNG (mulberry32) so fuzz failures replay from the printed seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
