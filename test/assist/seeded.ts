/**
 * The assist tests' seeded generator: the executor tests' Rng (test/exec/rng.ts: mulberry32,
 * edge-biased value()) plus the few helpers these tests use, so every random input is
 * reproducible from its seed.
 */
import { Rng as ExecRng } from '../exec/rng.js';

export class Rng extends ExecRng {
  /** Integer in [0, n). */
  below(n: number): number {
    return this.int(n);
  }
  /** A uint32 as a number. */
  u32n(): number {
    return Number(this.u32());
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** A 64-bit operand value biased toward the edges where flag logic breaks. */
export function edgyValue(rng: Rng): bigint {
  return rng.value();
}
