/** Seeded random numbers for the executor fuzz tests (mulberry32); the seed is printed on failure. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  u32(): bigint { return BigInt((this.next() * 4294967296) >>> 0); }
  u64(): bigint { return (this.u32() << 32n) | this.u32(); }

  /** A 64-bit value biased toward the edges that break flag logic. */
  value(): bigint {
    const EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n,
      0xffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0x100000000n];
    switch (this.int(6)) {
      case 0: return this.pick(EDGES);
      case 1: return BigInt(this.int(64));
      case 2: return this.u64() & ((1n << BigInt(this.pick([8, 16, 32]))) - 1n);
      case 3: return BigInt.asUintN(64, this.pick(EDGES) + BigInt(this.int(5) - 2));
      default: return this.u64();
    }
  }
}

/**
 * The seed for this run: TSVISOR_SEED when set, else time-based. Printed as it is chosen, not
 * only in a failure's message: a run that hangs (killed by the runner's time limit) or crashes
 * says nothing else.
 */
export function testSeed(): number {
  const env = process.env.TSVISOR_SEED;
  const seed = env ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
  console.log(`# seed ${seed} (TSVISOR_SEED=${seed} replays it)`);
  return seed;
}
