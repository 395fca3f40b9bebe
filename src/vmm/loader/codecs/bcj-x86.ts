/**
 * The x86 BCJ filter's decoder (xz's "x86" branch converter): the kernel build compresses with
 * `xz --x86`, which turned the relative targets of E8/E9 (call/jmp rel32) into absolute ones to
 * help compression; this turns them back, in place, over one xz block's output. The algorithm
 * is the one described in xz's filter documentation; positions are relative to the block start
 * plus the filter's start offset.
 */

/** Whether a previous-E8/E9 mask allows converting (indexed by (mask >> 1) & 7). */
const ALLOWED = [true, true, true, false, true, false, false, false];
const BIT_NUMBER = [0, 1, 2, 2, 3, 3, 3, 3];

const isMsByte = (b: number): boolean => b === 0 || b === 0xff;

export function bcjX86Decode(buf: Uint8Array, startOffset: number): void {
  if (buf.length < 5) return;
  let prevMask = 0;
  let prevPos = startOffset - 5;
  const limit = buf.length - 5;
  let i = 0;
  while (i <= limit) {
    const op = buf[i]!;
    if (op !== 0xe8 && op !== 0xe9) {
      i++;
      continue;
    }
    const now = startOffset + i;
    const gap = now - prevPos;
    prevPos = now;
    if (gap > 5) prevMask = 0;
    else for (let k = 0; k < gap; k++) prevMask = ((prevMask & 0x77) << 1) & 0xff;
    const hiByte = buf[i + 4]!;
    if (isMsByte(hiByte) && ALLOWED[(prevMask >>> 1) & 7] && (prevMask >>> 1) < 0x10) {
      let src = ((hiByte << 24) | (buf[i + 3]! << 16) | (buf[i + 2]! << 8) | buf[i + 1]!) >>> 0;
      let dest: number;
      for (;;) {
        dest = (src - (now + 5)) >>> 0;
        if (prevMask === 0) break;
        const n = BIT_NUMBER[prevMask >>> 1]!;
        const b = (dest >>> (24 - n * 8)) & 0xff;
        if (!isMsByte(b)) break;
        src = (dest ^ (2 ** (32 - n * 8) - 1)) >>> 0;
      }
      buf[i + 4] = (dest >>> 24) & 1 ? 0xff : 0;
      buf[i + 3] = (dest >>> 16) & 0xff;
      buf[i + 2] = (dest >>> 8) & 0xff;
      buf[i + 1] = dest & 0xff;
      i += 5;
      prevMask = 0;
    } else {
      i++;
      prevMask |= 1;
      if (isMsByte(hiByte)) prevMask |= 0x10;
    }
  }
}
