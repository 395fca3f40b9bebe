/**
 * The LZMA decoder (range coder + literal/match model), shared by the .lzma ("alone") and the
 * LZMA2 (xz) containers. Written here because no maintained npm package decodes LZMA2 with the
 * x86 BCJ filter synchronously on Node 20; the algorithm follows the LZMA specification
 * (lzma-specification.txt in the LZMA SDK). Output goes into one caller-provided buffer, which
 * is also the dictionary, so nothing here allocates in proportion to what the input claims.
 */
import { VmmError } from '../../../api/errors.js';

const NUM_STATES = 12;
const POS_BITS_MAX = 4;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 1 << (END_POS_MODEL_INDEX >> 1);
const NUM_ALIGN_BITS = 4;
const MATCH_MIN_LEN = 2;
const PROB_INIT = 1024;

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

/** Decodes lc/lp/pb from the properties byte ((pb * 5 + lp) * 9 + lc). */
export function decodeProps(byte: number, what: string): LzmaProps {
  if (byte >= 9 * 5 * 5) throw new VmmError('EINVAL', `${what}: LZMA properties byte ${byte} is over 224`);
  return { lc: byte % 9, lp: Math.floor(byte / 9) % 5, pb: Math.floor(byte / 45) };
}

/** The range decoder over input[pos, end). */
class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  constructor(readonly input: Uint8Array, public pos: number, readonly end: number, readonly what: string) {
    if (end - pos < 5) throw this.fail('range coder needs 5 bytes to start');
    if (input[pos] !== 0) throw this.fail('range coder does not start with a zero byte');
    for (let i = 1; i < 5; i++) this.code = ((this.code << 8) | input[pos + i]!) >>> 0;
    this.pos += 5;
    if (this.code === this.range) throw this.fail('range coder starts with an impossible code');
  }

  private next(): number {
    if (this.pos >= this.end) throw this.fail('is truncated');
    return this.input[this.pos++]!;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probs[i] = p - (p >>> 5);
      bit = 1;
    }
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
    return bit;
  }

  direct(count: number): number {
    let res = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      if (this.range < 0x1000000) {
        this.range = (this.range << 8) >>> 0;
        this.code = ((this.code << 8) | this.next()) >>> 0;
      }
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1, sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) + b;
      sym |= b << i;
    }
    return sym;
  }

  fail(what: string): VmmError {
    return new VmmError('EINVAL', `${this.what} ${what}`);
  }
}

/** Probability layout: one Uint16Array per model part. */
class LenDecoder {
  readonly choice = new Uint16Array(2);
  readonly low = new Uint16Array(1 << (POS_BITS_MAX + 3));
  readonly mid = new Uint16Array(1 << (POS_BITS_MAX + 3));
  readonly high = new Uint16Array(256);
  reset(): void {
    for (const a of [this.choice, this.low, this.mid, this.high]) a.fill(PROB_INIT);
  }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

export type LzmaEnd = 'size' | 'marker';

/**
 * The decoder's state: model probabilities, state machine, last four distances. It survives
 * across LZMA2 chunks (which may keep state and only restart the range coder).
 */
export class LzmaDecoder {
  private props: LzmaProps = { lc: 0, lp: 0, pb: 0 };
  private literal = new Uint16Array(0x300);
  private readonly isMatch = new Uint16Array(NUM_STATES << POS_BITS_MAX);
  private readonly isRep = new Uint16Array(NUM_STATES);
  private readonly isRepG0 = new Uint16Array(NUM_STATES);
  private readonly isRepG1 = new Uint16Array(NUM_STATES);
  private readonly isRepG2 = new Uint16Array(NUM_STATES);
  private readonly isRep0Long = new Uint16Array(NUM_STATES << POS_BITS_MAX);
  private readonly posSlot = new Uint16Array(4 << 6);
  private readonly posSpecial = new Uint16Array(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX);
  private readonly align = new Uint16Array(1 << NUM_ALIGN_BITS);
  private readonly lenDecoder = new LenDecoder();
  private readonly repLenDecoder = new LenDecoder();
  private state = 0;
  private reps = [0, 0, 0, 0];

  constructor(readonly what: string) {}

  /** New lc/lp/pb (with a state reset). lc + lp is at most 12 in LZMA; LZMA2 caps it at 4. */
  setProps(props: LzmaProps): void {
    this.props = props;
    this.literal = new Uint16Array(0x300 << (props.lc + props.lp));
    this.resetState();
  }

  resetState(): void {
    for (const a of [this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posSpecial, this.align]) a.fill(PROB_INIT);
    this.lenDecoder.reset();
    this.repLenDecoder.reset();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  /**
   * Decodes input[inPos, inEnd) into out from outPos. dictStart is where the dictionary begins
   * (matches may not reach before it). With end 'size' exactly outLimit - outPos bytes are made;
   * with 'marker' decoding stops at the end marker and more than outLimit is an error.
   * Returns the output position and the input position after the range coder.
   */
  decode(input: Uint8Array, inPos: number, inEnd: number, out: Uint8Array, outPos: number, outLimit: number, dictStart: number, end: LzmaEnd): { outPos: number; inPos: number } {
    const rc = new RangeDecoder(input, inPos, inEnd, this.what);
    const { lc, lp, pb } = this.props;
    const pbMask = (1 << pb) - 1, lpMask = (1 << lp) - 1;
    let state = this.state;
    let [rep0, rep1, rep2, rep3] = this.reps as [number, number, number, number];
    let pos = outPos;
    for (;;) {
      if (end === 'size' && pos === outLimit) break;
      const posState = pos & pbMask;
      if (rc.bit(this.isMatch, (state << POS_BITS_MAX) + posState) === 0) {
        if (pos >= outLimit) throw rc.fail(`decodes to more than the ${out.length} bytes expected`);
        const prev = pos > dictStart ? out[pos - 1]! : 0;
        const base = 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          if (rep0 >= pos - dictStart) throw rc.fail(`match distance ${rep0 + 1} at output ${pos} reaches before the dictionary`);
          let matchByte = out[pos - rep0 - 1]!;
          do {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const b = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
            sym = (sym << 1) | b;
            if (matchBit !== b) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
        out[pos++] = sym - 0x100;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, state) !== 0) {
        if (pos === dictStart) throw rc.fail('repeats a match before any output');
        if (rc.bit(this.isRepG0, state) === 0) {
          if (rc.bit(this.isRep0Long, (state << POS_BITS_MAX) + posState) === 0) {
            if (pos >= outLimit) throw rc.fail(`decodes to more than the ${out.length} bytes expected`);
            if (rep0 >= pos - dictStart) throw rc.fail(`match distance ${rep0 + 1} at output ${pos} reaches before the dictionary`);
            state = state < 7 ? 9 : 11;
            out[pos] = out[pos - rep0 - 1]!;
            pos++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, state) === 0) dist = rep1;
          else {
            if (rc.bit(this.isRepG2, state) === 0) dist = rep2;
            else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = this.repLenDecoder.decode(rc, posState);
        state = state < 7 ? 8 : 11;
      } else {
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = this.lenDecoder.decode(rc, posState);
        state = state < 7 ? 7 : 10;
        rep0 = this.distance(rc, len);
        if (rep0 === 0xffffffff) {
          if (end === 'marker' && rc.code === 0) return this.finish(state, [rep0, rep1, rep2, rep3], pos, rc.pos);
          throw rc.fail('has an end marker where none may be, or a corrupt one');
        }
      }
      len += MATCH_MIN_LEN;
      if (rep0 >= pos - dictStart) throw rc.fail(`match distance ${rep0 + 1} at output ${pos} reaches before the dictionary`);
      if (len > outLimit - pos) throw rc.fail(`decodes to more than the ${out.length} bytes expected`);
      const from = pos - rep0 - 1;
      if (rep0 + 1 >= len) out.copyWithin(pos, from, from + len);
      else for (let i = 0; i < len; i++) out[pos + i] = out[from + i]!;
      pos += len;
    }
    return this.finish(state, [rep0, rep1, rep2, rep3], pos, rc.pos);
  }

  private finish(state: number, reps: number[], outPos: number, inPos: number): { outPos: number; inPos: number } {
    this.state = state;
    this.reps = reps;
    return { outPos, inPos };
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = Math.min(len, 3);
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << direct) >>> 0;
    if (slot < END_POS_MODEL_INDEX) return (dist + rc.reverseTree(this.posSpecial, dist - slot, direct)) >>> 0;
    dist = (dist + ((rc.direct(direct - NUM_ALIGN_BITS) << NUM_ALIGN_BITS) >>> 0)) >>> 0;
    return (dist + rc.reverseTree(this.align, 0, NUM_ALIGN_BITS)) >>> 0;
  }
}
