/**
 * A 256-bit vector set, the shape of the APIC's IRR, ISR and TMR: eight 32-bit words, word i
 * holding vectors 32*i .. 32*i+31 (the guest reads word i at register offset base + 16*i).
 */
export class VectorSet {
  private readonly words = new Uint32Array(8);

  has(vector: number): boolean {
    return (this.words[vector >>> 5]! & (1 << (vector & 31))) !== 0;
  }

  set(vector: number): void {
    this.words[vector >>> 5]! |= 1 << (vector & 31);
  }

  clear(vector: number): void {
    this.words[vector >>> 5]! &= ~(1 << (vector & 31));
  }

  assign(vector: number, on: boolean): void {
    if (on) this.set(vector);
    else this.clear(vector);
  }

  clearAll(): void {
    this.words.fill(0);
  }

  word(index: number): number {
    return this.words[index]!;
  }

  /** The highest vector in the set, or -1 when it is empty. */
  highest(): number {
    for (let i = 7; i >= 0; i--) {
      const w = this.words[i]!;
      if (w !== 0) return i * 32 + 31 - Math.clz32(w);
    }
    return -1;
  }

  isEmpty(): boolean {
    return this.highest() < 0;
  }
}
