/** A small seeded generator (xorshift32) so every random test input is reproducible from its seed. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

const EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0x100000000n];

/** A 64-bit operand value biased toward the edges where flag logic breaks. */
export function edgyValue(rng: Rng): bigint {
  switch (rng.below(6)) {
    case 0: return rng.pick(EDGES);
    case 1: return BigInt(rng.below(64));
    case 2: return rng.u64() & ((1n << BigInt(rng.pick([8, 16, 32]))) - 1n);
    case 3: return BigInt.asUintN(64, rng.pick(EDGES) + BigInt(rng.below(5) - 2));
    default: return rng.u64();
  }
}
