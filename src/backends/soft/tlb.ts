/**
 * A direct-mapped software TLB: linear page -> host bytes + permissions. Entries are filled by
 * the page walker (paging.ts) and grant only what the walk proved: write bits are granted only
 * once the dirty bit is set and the physical page holds no cached code (so every write to a
 * code page takes the slow path and invalidates the decoded-instruction cache).
 */
export const TLB_SIZE = 1024;
export const TLB_MASK = TLB_SIZE - 1;

/** Permission bits: read/write/execute, each for supervisor (CPL<3) and user (CPL 3). */
export const P_RS = 1, P_RU = 2, P_WS = 4, P_WU = 8, P_XS = 16, P_XU = 32;
export const P_W_ANY = P_WS | P_WU;

export class Tlb {
  /** Linear page number (signed in long mode); NaN when the slot is empty. */
  readonly tag = new Float64Array(TLB_SIZE).fill(NaN);
  readonly perm = new Int32Array(TLB_SIZE);
  /** Offset of the page's first byte in bytes[i]. */
  readonly base = new Int32Array(TLB_SIZE);
  /** Guest-physical page number. */
  readonly phys = new Float64Array(TLB_SIZE);
  readonly bytes: (Uint8Array | null)[] = new Array<Uint8Array | null>(TLB_SIZE).fill(null);

  flush(): void {
    this.tag.fill(NaN);
  }

  /** Drops one linear page (INVLPG). */
  flushPage(linPage: number): void {
    const i = linPage & TLB_MASK;
    if (this.tag[i] === linPage) this.tag[i] = NaN;
  }

  /** Revokes write permission on every entry that maps physPage (it now holds cached code). */
  revokeWrites(physPage: number): void {
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.phys[i] === physPage) this.perm[i] &= ~P_W_ANY;
    }
  }
}
