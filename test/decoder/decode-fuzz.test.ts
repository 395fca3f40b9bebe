/**
 * Decoder fuzz: random instruction-shaped byte strings in all three modes. Nothing but
 * VmmError ENODEV/EFAULT may escape; a decoded length is 1..15 and the decoder read exactly
 * the bytes it counted (checked through a Proxy that records every index read); the same
 * bytes cut right after the instruction decode the same, and one byte shorter are EFAULT.
 * Seed: DECODER_FUZZ_SEED, else time-based; printed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { decode } from '../../src/x86/decoder/index.js';
import { randomCode } from '../../src/x86/decoder/random-code.js';
import type { CodeMode } from '../../src/x86/instruction.js';
import { prng } from './helpers.js';

const CASES = 30000;
const PROXY_EVERY = 10;
const MODES: CodeMode[] = [16, 32, 64];

/** A view of bytes that records the highest index read. */
function recordingView(bytes: Uint8Array, seen: { max: number }): Uint8Array {
  return new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) seen.max = Math.max(seen.max, Number(key));
      return Reflect.get(target, key);
    },
  });
}

test(`decoder fuzz: ${CASES} random strings`, () => {
  const seed = Number(process.env.DECODER_FUZZ_SEED ?? (Date.now() >>> 0));
  const rand = prng(seed);
  const buf = new Uint8Array(40);
  let ok = 0, nodev = 0, fault = 0;
  let current = '';
  try {
    for (let c = 0; c < CASES; c++) {
      const mode = MODES[c % 3];
      const lead = (rand() * 3) | 0; // garbage before the instruction: decode at an offset
      for (let i = 0; i < lead; i++) buf[i] = (rand() * 256) | 0;
      const n = lead + randomCode(rand, buf.subarray(lead));
      const bytes = buf.slice(0, n);
      current = `case ${c} mode ${mode} offset ${lead}: ${Buffer.from(bytes).toString('hex')}`;
      const seen = { max: -1 };
      const view = c % PROXY_EVERY === 0 ? recordingView(bytes, seen) : bytes;
      let length = 0;
      try {
        length = decode(view, mode, lead).length;
      } catch (e) {
        if (!(e instanceof VmmError) || (e.code !== 'ENODEV' && e.code !== 'EFAULT')) throw e;
        if (e.code === 'ENODEV') nodev++; else fault++;
        if (seen.max >= 0) assert.ok(seen.max < lead + 15, `read index ${seen.max} past 15 bytes`);
        continue;
      }
      ok++;
      assert.ok(length >= 1 && length <= 15 && lead + length <= n, `length ${length}`);
      if (seen.max >= 0) assert.equal(seen.max, lead + length - 1, 'read exactly the instruction bytes');
      const cut = bytes.subarray(0, lead + length);
      assert.equal(decode(cut, mode, lead).length, length, 'same length with nothing after it');
      assert.throws(() => decode(cut.subarray(0, lead + length - 1), mode, lead),
        (e: unknown) => e instanceof VmmError && e.code === 'EFAULT', 'one byte short is EFAULT');
    }
  } catch (e) {
    console.log(`# decoder fuzz FAILED with seed ${seed} (DECODER_FUZZ_SEED=${seed}) at ${current}`);
    throw e;
  }
  // Each outcome must actually occur, or the generator is not exercising the decoder.
  assert.ok(ok > CASES / 4 && nodev > 100 && fault > 100, `ok ${ok} ENODEV ${nodev} EFAULT ${fault}`);
});
