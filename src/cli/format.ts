/** Text formatting shared by the CLI commands. */

/** XCR0 state-component bits (Intel SDM vol. 1, 13.1). */
const XCR0_BITS: readonly [number, string][] = [
  [0, 'x87'], [1, 'SSE'], [2, 'AVX'], [3, 'BNDREGS'], [4, 'BNDCSR'], [5, 'opmask'],
  [6, 'ZMM_Hi256'], [7, 'Hi16_ZMM'], [9, 'PKRU'], [17, 'TILECFG'], [18, 'TILEDATA'],
];

/** The names of the XCR0 components set in mask (unknown bits as bitN). */
export function xcr0Names(mask: bigint): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((mask >> BigInt(bit)) & 1n) === 0n) continue;
    out.push(XCR0_BITS.find(([b]) => b === bit)?.[1] ?? `bit${bit}`);
  }
  return out;
}

const UNITS = ['B', 'K', 'M', 'G', 'T', 'P'];
/** 2097152 -> "2.0M", as nvmmctl prints sizes. */
export function humanBytes(n: number): string {
  let v = n, u = 0;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v}B` : `${v.toFixed(1)}${UNITS[u]}`;
}

/** Left-aligned columns separated by two spaces, with a dashed rule under the header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** ctime(3) style, as nvmmctl prints creation times: "Sat Nov 21 18:55:38 2026" (local time). */
export function ctime(ms: number): string {
  const d = new Date(ms);
  return `${d.toDateString().slice(0, 10)} ${d.toTimeString().slice(0, 8)} ${d.getFullYear()}`;
}
