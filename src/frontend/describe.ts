/** Renders a caller-supplied value for an error message, whatever its type, without throwing. */
export function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? `${v} (0x${v.toString(16)})` : String(v);
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'function') return 'a function';
  return `an object`;
}
