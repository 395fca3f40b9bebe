/**
 * Gives the physical pages of released soft guest RAM back to the host at once. Soft RAM is a
 * SharedArrayBuffer (so a monitor's worker threads can share it), which only the garbage
 * collector frees, and V8 collects lazily: 300 create/destroy cycles of a 64 MiB machine peaked
 * at 4.5 GiB RSS. madvise(MADV_DONTNEED) on the buffer's whole pages returns them now; the buffer
 * stays valid, so a view the caller still holds reads zeros (as released KVM RAM does) and cannot
 * reach another machine's memory.
 *
 * Needs koffi and glibc; where they do not load, the soft backend still works everywhere and
 * released RAM waits for the garbage collector (releasesPages tells which).
 */
type Madvise = (addr: bigint, length: number, advice: number) => number;
/** memmove(p, p, 0) returns p: the one-call way to learn a typed array's data address through koffi. */
type AddressOf = (dst: Uint8Array, src: Uint8Array, n: number) => bigint;

const MADV_DONTNEED = 4;
const PAGE = 4096n;

let madvise: Madvise | undefined;
let addressOf: AddressOf | undefined;
try {
  const koffi = (await import('koffi')).default;
  const libc = koffi.load('libc.so.6');
  madvise = libc.func('int madvise(void *addr, size_t length, int advice)') as Madvise;
  addressOf = libc.func('void *memmove(void *dst, void *src, size_t n)') as AddressOf;
} catch {
  madvise = undefined;
}

/** True when releasePages really returns memory to the host here. */
export const releasesPages = madvise !== undefined;

/** Drops the physical pages wholly inside bytes (contents become zero); false when it cannot. */
export function releasePages(bytes: Uint8Array): boolean {
  if (madvise === undefined || addressOf === undefined || bytes.length === 0) return false;
  const start = addressOf(bytes, bytes, 0);
  const from = (start + PAGE - 1n) & ~(PAGE - 1n);
  const to = (start + BigInt(bytes.length)) & ~(PAGE - 1n);
  if (to <= from) return false;
  // The partial pages at either end are not ours alone (malloc'd): zero them by hand instead.
  bytes.fill(0, 0, Number(from - start));
  bytes.fill(0, Number(to - start));
  return madvise(from, Number(to - from), MADV_DONTNEED) === 0;
}
