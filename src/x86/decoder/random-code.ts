/**
 * Random byte strings shaped like x86 code, for fuzzing the decoder (test suite and
 * scripts/decoder-fuzz.mjs): pure random bytes mostly exercise the one-byte map, so a share of
 * the strings start with prefixes, REX, the 0F/0F38/0F3A escapes or VEX/EVEX/XOP escapes.
 */
const PREFIXES = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3];
const ESCAPES = [[0x0f], [0x0f, 0x38], [0x0f, 0x3a], [0xc4], [0xc5], [0x62], [0x8f], [0x0f, 0x01], [0x0f, 0xc7]];

/** Fills out[0..n) with a random instruction-like string; returns n (1..24). rand: uniform [0, 1). */
export function randomCode(rand: () => number, out: Uint8Array): number {
  const byte = (): number => (rand() * 256) | 0;
  let n = 0;
  const shape = rand();
  if (shape < 0.35) {
    const k = (rand() * (rand() < 0.1 ? 16 : 4)) | 0;
    for (let i = 0; i < k && n < 16; i++) out[n++] = PREFIXES[(rand() * PREFIXES.length) | 0];
  }
  if (rand() < 0.3) out[n++] = 0x40 | (byte() & 15);
  if (rand() < 0.4) for (const b of ESCAPES[(rand() * ESCAPES.length) | 0]) out[n++] = b;
  const tail = 1 + ((rand() * (rand() < 0.2 ? 22 : 12)) | 0);
  for (let i = 0; i < tail && n < out.length; i++) out[n++] = byte();
  return n;
}
