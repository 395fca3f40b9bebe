/**
 * Host pages behind large buffers: advice as they are allocated, release when they are freed.
 * Used for soft guest RAM (backends/soft) and for the monitor's kernel decompression buffer
 * (vmm/loader/payload.ts); a host concern below both, so neither imports the other.
 *
 * Huge pages: guest RAM is asked to be backed by 2 MiB pages (madvise MADV_HUGEPAGE on the
 * 2 MiB-aligned part of the buffer, as QEMU and Firecracker do for theirs), where the host's
 * transparent huge pages are on "madvise" (the usual default) or "always". The guest's accesses
 * spread over all of its RAM, so each 4 KiB page was a host page fault on first touch (~20 K
 * of them in a Linux boot to `Run /init`) and a host TLB entry per page after.
 *
 * Release: gives the physical pages of released soft guest RAM back to the host at once. Soft RAM is a
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

const MADV_DONTNEED = 4, MADV_HUGEPAGE = 14;
const PAGE = 4096n, HUGE_PAGE = 2n * 1024n * 1024n;

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

/**
 * The host address range of the whole pages of size unit inside bytes, and bytes' own start
 * address; undefined when madvise is unavailable or no whole page lies inside.
 */
function wholePages(bytes: Uint8Array, unit: bigint): { start: bigint; from: bigint; to: bigint } | undefined {
  if (madvise === undefined || addressOf === undefined || bytes.length === 0) return undefined;
  const start = addressOf(bytes, bytes, 0);
  const from = (start + unit - 1n) & ~(unit - 1n);
  const to = (start + BigInt(bytes.length)) & ~(unit - 1n);
  return to > from ? { start, from, to } : undefined;
}

/**
 * Asks for huge pages behind the 2 MiB-aligned whole huge pages inside bytes (the partial ones at
 * either end may share host pages with other allocations); false when it cannot (no koffi or
 * glibc, less than one aligned huge page inside, or madvise refused). Contents are unchanged.
 */
export function adviseHugePages(bytes: Uint8Array): boolean {
  const r = wholePages(bytes, HUGE_PAGE);
  return r !== undefined && madvise!(r.from, Number(r.to - r.from), MADV_HUGEPAGE) === 0;
}

/** True when releasePages really returns memory to the host here. */
export const releasesPages = madvise !== undefined;

/** Drops the physical pages wholly inside bytes (contents become zero); false when it cannot. */
export function releasePages(bytes: Uint8Array): boolean {
  const r = wholePages(bytes, PAGE);
  if (r === undefined) return false;
  // The partial pages at either end are not ours alone (malloc'd): zero them by hand instead.
  bytes.fill(0, 0, Number(r.from - r.start));
  bytes.fill(0, Number(r.to - r.start));
  return madvise!(r.from, Number(r.to - r.from), MADV_DONTNEED) === 0;
}
