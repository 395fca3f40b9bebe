/**
 * A direct-mapped software TLB: linear page -> host bytes + permissions. Entries are filled by
 * the page walker (paging.ts) and grant only what the walk proved: write bits are granted only
 * once the dirty bit is set and the physical page holds no cached code (so every write to a
 * code page takes the slow path and invalidates the decoded-instruction cache).
 *
 * Besides the full entry (tag, perm: what the slow path and fetches use) each slot has four
 * probe tags, one per access kind (read/write x supervisor/user), holding the page's linear
 * address when that access is allowed and NaN when not. A data access probes with
 * lin - (lin & (4096 - size)): that equals the page address exactly when the page matches and
 * the access is naturally aligned (so it cannot cross the page), so one compare decides the
 * fast path; the data is then read at an aligned index through one set of typed views
 * (ram8/ram16/ram32) of the machine's main RAM buffer (useMemory: its largest RAM region's),
 * which a compiled block loads once, where per-slot views would cost a load and a type check
 * per access. Tags are set only for pages in that buffer: RAM elsewhere goes the slow way, as
 * do unaligned or page-crossing accesses, misses, MMIO and write-protected pages (ROM, dirty
 * bit not yet set, cached code), which all fail that compare.
 *
 * The same tags are kept split for addresses held as int32 halves (probePair): a low-half tag
 * and the page's high half, two int32 compares instead of one double compare, because the double
 * probe's conversions (halves to a double, the double back to an int for the slot and the mask)
 * are a chain every dependent access waits on: a pointer chase through the double probe took 8.4
 * ns per access against 4.9 ns through the pair one (a plain-JS micro test, fifteenth stop).
 */
/**
 * Direct-mapped entries. 4096 (16 MiB of 4 KiB pages) rather than 1024: a boot of Linux to
 * `Run /init` walks the page tables 113 K times against 328 K (QEMU sizes its TLB dynamically,
 * up to far more).
 */
export const TLB_SIZE = 4096;
export const TLB_MASK = TLB_SIZE - 1;

/** Permission bits: read/write/execute, each for supervisor (CPL<3) and user (CPL 3). */
export const P_RS = 1, P_RU = 2, P_WS = 4, P_WU = 8, P_XS = 16, P_XU = 32;
export const P_W_ANY = P_WS | P_WU;

/**
 * A region's bytes, and views of the whole buffer they lie in (undefined on a big-endian host,
 * where typed views would not read guest words little-endian).
 */
export interface RamViews { u8: Uint8Array; buffer: BufferViews | undefined }
/** A RAM buffer as bytes, 16-bit and 32-bit words from its start. */
export interface BufferViews { u8: Uint8Array; u16: Uint16Array; i32: Int32Array }

/**
 * The probe, as two helpers with one return each: readLin/writeLin call them and compiled blocks
 * put their bodies in place of the calls (helper-inline.ts), so the rule is written once.
 * slotOf: the slot of linear address lin. probeAt: the byte offset of an access of size bytes at
 * lin in the ram views (at: Tlb.at) when tags (one of readS... writeU) allow it, else -1. In
 * long mode lin may be a non-canonical address: no tag is ever one (the walker fills canonical
 * pages only).
 */
export function slotOf(lin: number): number {
  return (lin >>> 12) & TLB_MASK;
}
export function probeAt(tags: Float64Array, at: Float64Array, i: number, lin: number, size: number): number {
  return tags[i] === lin - (lin & (4096 - size)) ? at[i]! + (lin & 0xfff) : -1;
}
/**
 * The same probe for an address held as int32 halves (lo, hi), as the cold records hold 64-bit
 * registers (cold-code.ts): no double arithmetic on the access's path (converting halves to a
 * double, and the double back for the slot and the compare, is a chain of conversions that
 * every dependent access waits on). tagsLo: one of readLoS... (the page's low half where the
 * access is allowed, PAIR_NONE where not), tagHi: the page's high half, at8: Tlb.at8. Returns
 * the access's byte offset in the ram views, or -1. lo & (size - 4097) is lo with the in-page bits
 * an aligned access leaves zero cleared: the page's low half exactly when the access is
 * naturally aligned (one body, no comment inside: compiled blocks take it in, helper-inline.ts).
 * A slot with a pair tag has at8 <= 2^31 - 4096 (fill), so the offset is an int32 and `| 0`
 * changes nothing; it tells the wasm tier's translator so (an int32 sum is a double to it).
 */
export function probePair(tagsLo: Int32Array, tagHi: Int32Array, at8: Int32Array, lo: number, hi: number, size: number): number {
  const i = (lo >>> 12) & TLB_MASK;
  return tagsLo[i] === (lo & (size - 4097)) && tagHi[i] === hi ? (at8[i]! + (lo & 0xfff)) | 0 : -1;
}
/** A pair tag no access matches (bit 11 set: a page address has its low 12 bits clear, an access's masked address bits 3-11). */
export const PAIR_NONE = 0x800;

/** The names the probe helpers use (see alu.ts ALU_INLINE_SCOPE). */
export const TLB_INLINE_SCOPE = { TLB_MASK } as const;

/**
 * The probe as compiled wasm blocks see it (wasm/block-wasm.ts), in the wasm memory: the same
 * four tags, for slots whose page lies in that memory only (NaN otherwise), and each slot's byte
 * address in it (where a JS block has the slot's views and offset). pairs: arrays in that memory
 * for the pair probe's six (readLoS readLoU writeLoS writeLoU tagHi at8, TLB_SIZE int32s each),
 * which become the TLB's own: both tiers read the same ones.
 */
export interface TlbMirror {
  readonly buffer: ArrayBufferLike;
  readonly readS: Float64Array; readonly readU: Float64Array;
  readonly writeS: Float64Array; readonly writeU: Float64Array;
  readonly addr: Float64Array;
  readonly pairs: readonly Int32Array[];
}

const EMPTY8 = new Uint8Array(0), EMPTY16 = new Uint16Array(0), EMPTY32 = new Int32Array(0);

export class Tlb {
  /** Linear page number (signed in long mode); NaN when the slot is empty. */
  readonly tag = new Float64Array(TLB_SIZE).fill(NaN);
  readonly perm = new Int32Array(TLB_SIZE);
  /** Offset of the page's first byte in bytes[i] (the slow path's view). */
  readonly base = new Float64Array(TLB_SIZE);
  /** Offset of the page's first byte in the ram views (meaningful where a probe tag is set). */
  readonly at = new Float64Array(TLB_SIZE);
  /** Guest-physical page number. */
  readonly phys = new Float64Array(TLB_SIZE);
  /** 1 where the entry is global (G with CR4.PGE): a MOV to CR3 keeps it (flushNonGlobal). */
  readonly global = new Uint8Array(TLB_SIZE);
  /**
   * The slots filled with non-global entries since the last flush, in fill order (a slot may be
   * listed twice); more than TLB_SIZE fills set localOverflow instead. A MOV to CR3 then drops
   * these few slots rather than scanning all: Linux switches address spaces for each patch of
   * its code (17.5 K CR3 loads before `Run /init`), touching a handful of pages in between.
   */
  private readonly localSlots = new Int32Array(TLB_SIZE);
  private localCount = 0;
  private localOverflow = false;
  readonly bytes: (Uint8Array | null)[] = new Array<Uint8Array | null>(TLB_SIZE).fill(null);

  /** Probe tags: page linear address (page * 4096) when the access is allowed, else NaN. */
  readonly readS = new Float64Array(TLB_SIZE).fill(NaN);
  readonly readU = new Float64Array(TLB_SIZE).fill(NaN);
  readonly writeS = new Float64Array(TLB_SIZE).fill(NaN);
  readonly writeU = new Float64Array(TLB_SIZE).fill(NaN);
  /**
   * The same tags split for probePair: each kind's page low half (PAIR_NONE where its tag is NaN,
   * and where the page's offset in the views does not fit an int32), the page's high half, and
   * that offset.
   */
  readLoS: Int32Array<ArrayBufferLike> = new Int32Array(TLB_SIZE).fill(PAIR_NONE);
  readLoU: Int32Array<ArrayBufferLike> = new Int32Array(TLB_SIZE).fill(PAIR_NONE);
  writeLoS: Int32Array<ArrayBufferLike> = new Int32Array(TLB_SIZE).fill(PAIR_NONE);
  writeLoU: Int32Array<ArrayBufferLike> = new Int32Array(TLB_SIZE).fill(PAIR_NONE);
  tagHi: Int32Array<ArrayBufferLike> = new Int32Array(TLB_SIZE);
  at8: Int32Array<ArrayBufferLike> = new Int32Array(TLB_SIZE);
  /** The main RAM buffer as bytes, 16-bit and 32-bit words (useMemory; empty until then). */
  ram8: Uint8Array = EMPTY8;
  ram16: Uint16Array = EMPTY16;
  ram32: Int32Array = EMPTY32;

  /** The wasm blocks' copy of the probe (attachMirror), if any. */
  private mirror: TlbMirror | undefined;

  /** From now on keeps m in step with the probe tags and uses its pair arrays (the TLB starts empty). */
  attachMirror(m: TlbMirror): void {
    this.mirror = m;
    [this.readLoS, this.readLoU, this.writeLoS, this.writeLoU, this.tagHi, this.at8] = m.pairs as [Int32Array<ArrayBufferLike>, Int32Array<ArrayBufferLike>, Int32Array<ArrayBufferLike>, Int32Array<ArrayBufferLike>, Int32Array<ArrayBufferLike>, Int32Array<ArrayBufferLike>];
    this.flush();
  }

  /**
   * The buffer whose pages get probe tags from now on (the machine's main RAM), flushing every
   * slot; undefined: none (every access goes the slow way).
   */
  useMemory(views: BufferViews | undefined): void {
    this.ram8 = views?.u8 ?? EMPTY8;
    this.ram16 = views?.u16 ?? EMPTY16;
    this.ram32 = views?.i32 ?? EMPTY32;
    this.flush();
  }

  /** Fills slot i (the walker's result): the page is at base in views.u8; the probe tags follow from perm. */
  fill(i: number, linPage: number, perm: number, physPage: number, views: RamViews, base: number, global: boolean): void {
    this.tag[i] = linPage;
    this.perm[i] = perm;
    this.global[i] = global ? 1 : 0;
    if (!global) {
      if (this.localCount < TLB_SIZE) this.localSlots[this.localCount++] = i;
      else this.localOverflow = true;
    }
    this.phys[i] = physPage;
    this.bytes[i] = views.u8;
    this.base[i] = base;
    const inBuffer = views.u8.byteOffset + base;
    this.at[i] = inBuffer;
    // Word views index from the buffer's start: only for a 4-byte-aligned page start in the main buffer.
    const fast = views.buffer !== undefined && views.buffer.u8 === this.ram8 && inBuffer % 4 === 0;
    const page = fast ? linPage * 4096 : NaN;
    this.readS[i] = perm & P_RS ? page : NaN;
    this.readU[i] = perm & P_RU ? page : NaN;
    this.writeS[i] = perm & P_WS ? page : NaN;
    this.writeU[i] = perm & P_WU ? page : NaN;
    const m = this.mirror;
    // With a mirror, wasm blocks read the pair tags too: only pages in their memory may have one.
    const lo = fast && inBuffer < 0x80000000 && (m === undefined || views.u8.buffer === m.buffer) ? page | 0 : PAIR_NONE;
    this.readLoS[i] = perm & P_RS ? lo : PAIR_NONE;
    this.readLoU[i] = perm & P_RU ? lo : PAIR_NONE;
    this.writeLoS[i] = perm & P_WS ? lo : PAIR_NONE;
    this.writeLoU[i] = perm & P_WU ? lo : PAIR_NONE;
    this.tagHi[i] = Math.floor(linPage / 0x100000) | 0;
    this.at8[i] = inBuffer | 0;
    if (m !== undefined) {
      const inMemory = fast && views.u8.buffer === m.buffer;
      m.readS[i] = inMemory ? this.readS[i]! : NaN; m.readU[i] = inMemory ? this.readU[i]! : NaN;
      m.writeS[i] = inMemory ? this.writeS[i]! : NaN; m.writeU[i] = inMemory ? this.writeU[i]! : NaN;
      m.addr[i] = inBuffer;
    }
  }

  flush(): void {
    this.localCount = 0;
    this.localOverflow = false;
    this.tag.fill(NaN);
    this.readS.fill(NaN); this.readU.fill(NaN); this.writeS.fill(NaN); this.writeU.fill(NaN);
    this.readLoS.fill(PAIR_NONE); this.readLoU.fill(PAIR_NONE); this.writeLoS.fill(PAIR_NONE); this.writeLoU.fill(PAIR_NONE);
    const m = this.mirror;
    if (m !== undefined) { m.readS.fill(NaN); m.readU.fill(NaN); m.writeS.fill(NaN); m.writeU.fill(NaN); }
  }

  /** After the machine is gone: no slot keeps guest RAM alive. */
  forgetMemory(): void {
    this.useMemory(undefined);
    this.bytes.fill(null);
  }

  /**
   * Drops every entry but the global ones (a MOV to CR3 without PCIDs): the kernel's own
   * mappings, global in Linux, survive its address-space switches as on hardware.
   */
  flushNonGlobal(): void {
    const tag = this.tag, global = this.global;
    if (this.localOverflow) {
      for (let i = 0; i < TLB_SIZE; i++) if (global[i] === 0 && tag[i] === tag[i]) this.dropSlot(i);
    } else {
      const slots = this.localSlots;
      for (let k = 0; k < this.localCount; k++) {
        const i = slots[k]!;
        if (global[i] === 0 && tag[i] === tag[i]) this.dropSlot(i);
      }
    }
    this.localCount = 0;
    this.localOverflow = false;
  }

  /** Drops one linear page (INVLPG). */
  flushPage(linPage: number): void {
    const i = linPage & TLB_MASK;
    if (this.tag[i] === linPage) this.dropSlot(i);
  }

  private dropSlot(i: number): void {
    this.tag[i] = NaN;
    this.readS[i] = NaN; this.readU[i] = NaN; this.writeS[i] = NaN; this.writeU[i] = NaN;
    this.readLoS[i] = PAIR_NONE; this.readLoU[i] = PAIR_NONE; this.writeLoS[i] = PAIR_NONE; this.writeLoU[i] = PAIR_NONE;
    const m = this.mirror;
    if (m !== undefined) { m.readS[i] = NaN; m.readU[i] = NaN; m.writeS[i] = NaN; m.writeU[i] = NaN; }
  }

  /** Revokes write permission on every entry that maps physPage (it now holds cached code). */
  revokeWrites(physPage: number): void {
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.phys[i] === physPage) {
        this.perm[i] &= ~P_W_ANY;
        this.writeS[i] = NaN; this.writeU[i] = NaN;
        this.writeLoS[i] = PAIR_NONE; this.writeLoU[i] = PAIR_NONE;
        if (this.mirror !== undefined) { this.mirror.writeS[i] = NaN; this.mirror.writeU[i] = NaN; }
      }
    }
  }
}
