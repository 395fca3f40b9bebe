/**
 * The decoder's byte reader. It enforces the two hard limits of instruction fetch:
 * never more than 15 bytes from the instruction start (the architectural length limit, #UD
 * beyond it -> ENODEV), and never past the end of the caller's buffer (-> EFAULT 'truncated').
 * Every read goes through here, so no decoder path can read further than those limits.
 */
import { VmmError } from '../../api/errors.js';

/** The architectural maximum instruction length. */
export const MAX_INSN_LENGTH = 15;

export class ByteCursor {
  bytes: Uint8Array = new Uint8Array(0);
  /** Offset of the instruction's first byte. */
  start = 0;
  /** Offset of the next byte to read. */
  pos = 0;
  /** min(start + 15, bytes.length): the first offset that may not be read. */
  limit = 0;

  reset(bytes: Uint8Array, start: number): void {
    this.bytes = bytes;
    this.start = start;
    this.pos = start;
    const end = start + MAX_INSN_LENGTH;
    this.limit = end < bytes.length ? end : bytes.length;
  }

  /** The byte at pos without consuming it. */
  peek(): number {
    if (this.pos >= this.limit) this.overrun(1);
    return this.bytes[this.pos];
  }

  u8(): number {
    const p = this.pos;
    if (p >= this.limit) this.overrun(1);
    this.pos = p + 1;
    return this.bytes[p];
  }

  i8(): number {
    return (this.u8() << 24) >> 24;
  }

  u16(): number {
    const p = this.pos;
    if (p + 2 > this.limit) this.overrun(2);
    this.pos = p + 2;
    const b = this.bytes;
    return b[p] | (b[p + 1] << 8);
  }

  i16(): number {
    return (this.u16() << 16) >> 16;
  }

  i32(): number {
    const p = this.pos;
    if (p + 4 > this.limit) this.overrun(4);
    this.pos = p + 4;
    const b = this.bytes;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  }

  /** Bytes consumed so far. */
  get length(): number {
    return this.pos - this.start;
  }

  /** The bytes read so far (plus `extra` more, within the limits) as hex, for error messages. */
  hexSoFar(extra = 0): string {
    let end = this.pos + extra;
    if (end > this.limit) end = this.limit;
    let s = '';
    for (let i = this.start; i < end; i++) s += (i > this.start ? ' ' : '') + this.bytes[i].toString(16).padStart(2, '0');
    return s === '' ? '(none)' : s;
  }

  /** Throws the error for a read of n bytes at pos that does not fit. */
  overrun(n: number): never {
    if (this.pos + n - this.start > MAX_INSN_LENGTH) {
      throw new VmmError('ENODEV', `instruction longer than ${MAX_INSN_LENGTH} bytes: ${this.hexSoFar(n)}`);
    }
    throw new VmmError('EFAULT', `truncated instruction: needs more than the ${this.bytes.length - this.start} byte(s) given: ${this.hexSoFar(n)}`);
  }

  /** Throws ENODEV for an invalid encoding, showing the bytes read so far. */
  invalid(why: string): never {
    throw new VmmError('ENODEV', `invalid instruction (${why}): ${this.hexSoFar()}`);
  }
}
