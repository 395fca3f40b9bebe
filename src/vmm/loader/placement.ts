/** Finding room in guest RAM for what the loader places (the initrd), away from what is taken. */
import type { Range } from './memory-map.js';

export const PAGE = 0x1000;

/**
 * The highest [start, start + size) with start a multiple of align, end <= cap, inside one usable
 * RAM range and overlapping none of `taken`; undefined when there is no such place.
 */
export function placeHigh(ram: readonly Range[], taken: readonly Range[], size: number, align: number, cap: number): number | undefined {
  let free: Range[] = ram.map((r) => ({ start: r.start, end: Math.min(r.end, cap) })).filter((r) => r.end > r.start);
  for (const t of taken) free = free.flatMap((r) => subtract(r, t));
  free.sort((a, b) => b.end - a.end);
  for (const r of free) {
    const start = Math.floor((r.end - size) / align) * align;
    if (start >= r.start) return start;
  }
  return undefined;
}

function subtract(r: Range, t: Range): Range[] {
  if (t.end <= r.start || t.start >= r.end) return [r];
  const out: Range[] = [];
  if (t.start > r.start) out.push({ start: r.start, end: t.start });
  if (t.end < r.end) out.push({ start: t.end, end: r.end });
  return out;
}

export function alignUp(v: number, align: number): number {
  return Math.ceil(v / align) * align;
}
