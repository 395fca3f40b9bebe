/**
 * What the soft CPU decoded from one guest-physical page (cpu.ts enterCodePage), and how it
 * survives writes to the page: only what was decoded from bytes that changed is dropped.
 *
 * Writes to a page with decoded code take the TLB's slow path and retire the page (the TLB may
 * then write it freely); when code runs there again, or at a run's first use of a page the host
 * may have written, the page's bytes are compared with the snapshot they were decoded from and
 * every instruction, block and page-crossing instruction that covers a changed byte is dropped.
 * The rest stays, compiled block functions included: Linux patches its code a few bytes at a
 * time (alternatives, static keys and calls, ~1,800 writes to 490 code pages before `Run /init`),
 * and dropping whole pages threw away blocks that had become hot on them.
 */
import type { Instruction } from '../../x86/instruction.js';
import type { Block } from './cpu.js';

/**
 * Decoded instructions by the page offset they start at: a 4096-entry index (0: none; else a
 * position + 1) into a list of the instructions, one position per offset ever decoded, reused
 * when that offset is decoded again (so a page rewritten forever keeps at most 4096). A
 * 4096-slot array per page was 32 KiB of engine heap each, 44 MB over a Linux boot's 1329 code
 * pages, nearly all of it holes; the index is 8 KiB outside the heap.
 */
export class DecodedInstructions {
  private readonly index = new Uint16Array(4096);
  private readonly list: (Instruction | undefined)[] = [];

  at(off: number): Instruction | undefined {
    const i = this.index[off]!;
    return i === 0 ? undefined : this.list[i - 1];
  }

  set(off: number, insn: Instruction): void {
    const i = this.index[off]!;
    if (i !== 0) this.list[i - 1] = insn;
    else this.index[off] = this.list.push(insn);
  }

  /** Drops every instruction for which covers(offset, instruction) holds. */
  dropWhere(covers: (off: number, insn: Instruction) => boolean): void {
    const index = this.index, list = this.list;
    for (let off = 0; off < 4096; off++) {
      const i = index[off]!;
      if (i === 0) continue;
      const insn = list[i - 1];
      if (insn !== undefined && covers(off, insn)) list[i - 1] = undefined;
    }
  }
}

export interface CodePage {
  /** Decoded instructions that fit in the page, by the page offset they start at. */
  insns: DecodedInstructions;
  /**
   * Straight-line blocks by the page offset they start at (built on first execution there); a
   * Map, as blocks start at few offsets (a 4096-slot array would add 32 KiB per code page).
   */
  blocks: Map<number, Block>;
  /**
   * Instructions that start in the page's last 14 bytes and continue on the next page, by offset,
   * with the bytes they took from that page: not in insns (a write to the next page would not
   * drop them), so each fetch compares those bytes before reusing one.
   */
  crossing: Map<number, CrossingInstruction>;
  /**
   * The page's bytes as everything above was decoded from them: instructions are decoded from
   * this copy, not from guest RAM, which another thread's vCPU may write between the page's
   * check and a decode there (then put back, the write would never be seen as a change).
   */
  snapshot: Uint8Array;
  /** The run (SoftCpu.runEpoch) in which the snapshot was last compared with guest RAM. */
  epoch: number;
}

export interface CrossingInstruction {
  insn: Instruction;
  /** The instruction's bytes on the next page. */
  tail: Uint8Array;
}

/** Whether bytes[at..] starts with tail. */
export function sameBytes(tail: Uint8Array, bytes: Uint8Array, at: number): boolean {
  for (let k = 0; k < tail.length; k++) if (bytes[at + k] !== tail[k]) return false;
  return true;
}

/** A page nothing has been decoded from yet; now: its 4096 bytes in guest RAM. */
export function newCodePage(now: Uint8Array, epoch: number): CodePage {
  return { insns: new DecodedInstructions(), blocks: new Map(), crossing: new Map(), snapshot: now.slice(), epoch };
}

/** changedBefore[k]: how many of the page's first k bytes differ from the snapshot. */
const changedBefore = new Int32Array(4097);
/**
 * The page's bytes as keepUnchanged read them, once: on a shared machine another thread's vCPU
 * may write the page while it is compared. Compared byte by byte and then copied, a byte written
 * between the two reads entered the snapshot unchecked, and what was decoded from its old value
 * stayed for good (Linux's text_poke putting a byte back: a stale INT3 ran forever).
 */
const reading = new Uint8Array(4096);

/**
 * Brings a page's decoded code up to date with its bytes now in guest RAM (ram: 4096 bytes):
 * what covers a changed byte is dropped. (Links into dropped blocks: the caller's codeGen, moved by
 * every guest write to code and at every run's start, already invalidated them.)
 */
export function keepUnchanged(cp: CodePage, ram: Uint8Array): void {
  const snap = cp.snapshot;
  // Equal: each byte as read matched the snapshot, which stays; a write since is seen next time.
  if (Buffer.compare(snap, ram) === 0) return;
  const now = reading;
  now.set(ram);
  let n = 0;
  for (let k = 0; k < 4096; k++) {
    changedBefore[k] = n;
    if (snap[k] !== now[k]) n++;
  }
  changedBefore[4096] = n;
  const changed = (from: number, to: number): boolean => changedBefore[to] !== changedBefore[from];
  cp.insns.dropWhere((o, insn) => changed(o, o + insn.length));
  for (const o of cp.crossing.keys()) if (changed(o, 4096)) cp.crossing.delete(o);
  let dropped: Set<Block> | undefined;
  for (const [o, b] of cp.blocks) {
    if (!changed(o, o + b.bytes)) continue;
    cp.blocks.delete(o);
    (dropped ??= new Set()).add(b);
  }
  // A region's function holds the code of each of its blocks: if one went, the others lose it.
  if (dropped !== undefined) {
    for (const b of cp.blocks.values()) {
      if (b.region !== undefined && b.region.some((r) => dropped.has(r))) {
        b.fn = undefined;
        b.region = undefined;
        b.label = 0;
      }
    }
  }
  snap.set(now);
}

/**
 * Pages retired by guest writes, kept to be brought up to date when code runs there again; the
 * oldest go first beyond `limit` (a page turned into data is never entered again).
 */
export class RetiredPages {
  private readonly pages = new Map<number, CodePage>();

  constructor(private readonly limit: number) {}

  add(physPage: number, cp: CodePage): void {
    this.pages.set(physPage, cp);
    if (this.pages.size > this.limit) this.pages.delete(this.pages.keys().next().value!);
  }

  /** The page retired under physPage, now no longer retired; undefined if none. */
  take(physPage: number): CodePage | undefined {
    const cp = this.pages.get(physPage);
    if (cp !== undefined) this.pages.delete(physPage);
    return cp;
  }

  clear(): void {
    this.pages.clear();
  }
}
