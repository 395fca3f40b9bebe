/**
 * The packed-integer operations a Linux boot's vector code runs most (BLAKE2s: PADDD, PXOR, POR,
 * PUNPCKLDQ, PUNPCKLQDQ, PSHUFD, PSRLD/PSLLD by an immediate, MOVDQA, MOVD from memory), on a
 * register's 32-bit lanes in place: a = destination (n lanes: 2 for MMX, 4 for XMM), b = source.
 * The form table's ops (ops-int.ts, ops-move.ts) call them, the soft CPU's cold records call them
 * and its compiled blocks put their bodies in place of a call (src/backends/soft/block-vector.ts),
 * so each operation is written once. a and b may be the same register: each helper reads what it
 * needs before writing over it. Bodies have the shape helper-inline.ts takes (no comment inside,
 * no division) and no loop (a loop in a block's function costs the engine's compiler more than
 * the block); n is 2 or 4, a literal there.
 */

export function addLanes32(a: Int32Array, b: Int32Array, n: number): void {
  a[0] = (a[0]! + b[0]!) | 0; a[1] = (a[1]! + b[1]!) | 0;
  if (n === 4) { a[2] = (a[2]! + b[2]!) | 0; a[3] = (a[3]! + b[3]!) | 0; }
}

export function andLanes32(a: Int32Array, b: Int32Array, n: number): void {
  a[0] = a[0]! & b[0]!; a[1] = a[1]! & b[1]!;
  if (n === 4) { a[2] = a[2]! & b[2]!; a[3] = a[3]! & b[3]!; }
}

export function andnLanes32(a: Int32Array, b: Int32Array, n: number): void {
  a[0] = ~a[0]! & b[0]!; a[1] = ~a[1]! & b[1]!;
  if (n === 4) { a[2] = ~a[2]! & b[2]!; a[3] = ~a[3]! & b[3]!; }
}

export function orLanes32(a: Int32Array, b: Int32Array, n: number): void {
  a[0] = a[0]! | b[0]!; a[1] = a[1]! | b[1]!;
  if (n === 4) { a[2] = a[2]! | b[2]!; a[3] = a[3]! | b[3]!; }
}

export function xorLanes32(a: Int32Array, b: Int32Array, n: number): void {
  a[0] = a[0]! ^ b[0]!; a[1] = a[1]! ^ b[1]!;
  if (n === 4) { a[2] = a[2]! ^ b[2]!; a[3] = a[3]! ^ b[3]!; }
}

/** PSRLD: each lane shifted right by count, zeros in; a count over 31 clears it (keep). */
export function srlLanes32(a: Int32Array, n: number, count: number): void {
  const keep = count > 31 ? 0 : -1;
  a[0] = (a[0]! >>> count) & keep; a[1] = (a[1]! >>> count) & keep;
  if (n === 4) { a[2] = (a[2]! >>> count) & keep; a[3] = (a[3]! >>> count) & keep; }
}

/** PSLLD: each lane shifted left by count; a count over 31 clears it (keep). */
export function sllLanes32(a: Int32Array, n: number, count: number): void {
  const keep = count > 31 ? 0 : -1;
  a[0] = (a[0]! << count) & keep; a[1] = (a[1]! << count) & keep;
  if (n === 4) { a[2] = (a[2]! << count) & keep; a[3] = (a[3]! << count) & keep; }
}

/** PSRAD: each lane shifted right by count, sign bits in; a count over 31 leaves the sign. */
export function sraLanes32(a: Int32Array, n: number, count: number): void {
  const c = count > 31 ? 31 : count;
  a[0] = a[0]! >> c; a[1] = a[1]! >> c;
  if (n === 4) { a[2] = a[2]! >> c; a[3] = a[3]! >> c; }
}

/** PSHUFD: lane i = b's lane (imm >> 2i) & 3. */
export function shuffleLanes32(a: Int32Array, b: Int32Array, imm: number): void {
  const t0 = b[imm & 3]!, t1 = b[(imm >> 2) & 3]!, t2 = b[(imm >> 4) & 3]!, t3 = b[(imm >> 6) & 3]!;
  a[0] = t0; a[1] = t1; a[2] = t2; a[3] = t3;
}

/** PUNPCKLDQ: the low lanes of a and b interleaved, a's first ([a0 b0 a1 b1]; MMX [a0 b0]). */
export function unpackLow32(a: Int32Array, b: Int32Array, n: number): void {
  const b0 = b[0]!, b1 = b[1]!;
  if (n === 4) { a[3] = b1; a[2] = a[1]!; }
  a[1] = b0;
}

/** PUNPCKLQDQ: a's low quadword, then b's ([a0 a1 b0 b1]). */
export function unpackLow64(a: Int32Array, b: Int32Array): void {
  const b0 = b[0]!, b1 = b[1]!;
  a[2] = b0; a[3] = b1;
}

/** MOVD/MOVQ into a register: (lo, hi) its low quadword, the rest zeroed. */
export function zeroExtendLanes32(a: Int32Array, lo: number, hi: number): void {
  a[0] = lo; a[1] = hi; a[2] = 0; a[3] = 0;
}

/** MOVDQA and the other whole-register moves: a = b. */
export function moveLanes32(a: Int32Array, b: Int32Array): void {
  const b0 = b[0]!, b1 = b[1]!, b2 = b[2]!, b3 = b[3]!;
  a[0] = b0; a[1] = b1; a[2] = b2; a[3] = b3;
}
