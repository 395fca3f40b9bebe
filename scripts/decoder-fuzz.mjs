#!/usr/bin/env node
// Decoder fuzz, long run: random instruction-shaped byte strings (and, with --raw, plain random
// bytes) decoded in 16/32/64-bit mode at random offsets. Checks, per string: nothing but
// VmmError ENODEV/EFAULT escapes; a decoded length is 1..15; the same bytes cut right after the
// instruction decode to the same length and one byte shorter give EFAULT; every 64th string is
// read through a Proxy that records the highest index read, which must be the last byte of the
// instruction (or < offset + 15 on error).
//
//   node scripts/decoder-fuzz.mjs [--count N] [--seed S] [--raw]      (needs npx tsc -p . first)
import { decode } from '../dist/src/x86/decoder/index.js';
import { randomCode } from '../dist/src/x86/decoder/random-code.js';
import { VmmError } from '../dist/src/api/errors.js';

const args = process.argv.slice(2);
let count = 1_000_000, seed = Date.now() >>> 0, raw = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--count') count = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]) >>> 0;
  else if (args[i] === '--raw') raw = true;
}

function prng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(seed);
const buf = new Uint8Array(48);
const modes = [16, 32, 64];
const outcome = { ok: 0, ENODEV: 0, EFAULT: 0 };
const lengths = new Array(16).fill(0);
const failures = [];
let current = '';

function fail(why) {
  failures.push(`${current}: ${why}`);
  if (failures.length >= 20) report(), process.exit(1);
}

function recordingView(bytes, seen) {
  return new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) seen.max = Math.max(seen.max, Number(key));
      return Reflect.get(target, key);
    },
  });
}

function report() {
  const secs = (performance.now() - t0) / 1000;
  console.log(`decoder fuzz: seed ${seed}${raw ? ' (raw random bytes)' : ''}, ${done} strings in ${secs.toFixed(1)} s: ` +
    `${outcome.ok} decoded, ${outcome.ENODEV} ENODEV, ${outcome.EFAULT} EFAULT; ${failures.length} failures`);
  console.log(`decoded lengths 1..15: ${lengths.slice(1).join(' ')}`);
  for (const f of failures) console.log(`  FAIL ${f}`);
  console.log(JSON.stringify({ seed, raw, strings: done, ...outcome, failures: failures.length }));
}

const t0 = performance.now();
let done = 0;
for (; done < count; done++) {
  const mode = modes[done % 3];
  const lead = (rand() * 4) | 0;
  for (let i = 0; i < lead; i++) buf[i] = (rand() * 256) | 0;
  let n;
  if (raw) {
    n = lead + 1 + ((rand() * 20) | 0);
    for (let i = lead; i < n; i++) buf[i] = (rand() * 256) | 0;
  } else n = lead + randomCode(rand, buf.subarray(lead));
  const bytes = buf.slice(0, n);
  current = `#${done} mode ${mode} offset ${lead} bytes ${Buffer.from(bytes).toString('hex')}`;
  const seen = { max: -1 };
  const view = done % 64 === 0 ? recordingView(bytes, seen) : bytes;
  let len;
  try {
    len = decode(view, mode, lead).length;
  } catch (e) {
    if (!(e instanceof VmmError) || (e.code !== 'ENODEV' && e.code !== 'EFAULT')) { fail(`threw ${e?.stack ?? e}`); continue; }
    outcome[e.code]++;
    if (seen.max >= lead + 15) fail(`read index ${seen.max}, past 15 bytes`);
    continue;
  }
  outcome.ok++;
  if (!(len >= 1 && len <= 15 && lead + len <= n)) { fail(`length ${len}`); continue; }
  lengths[len]++;
  if (seen.max >= 0 && seen.max !== lead + len - 1) fail(`read up to index ${seen.max}, length ${len}`);
  try {
    const again = decode(bytes.subarray(0, lead + len), mode, lead).length;
    if (again !== len) fail(`re-decode of the cut bytes gave ${again}, first ${len}`);
  } catch (e) { fail(`re-decode of the cut bytes threw ${e}`); }
  try {
    decode(bytes.subarray(0, lead + len - 1), mode, lead);
    fail('one byte short decoded');
  } catch (e) {
    if (!(e instanceof VmmError) || e.code !== 'EFAULT') fail(`one byte short threw ${e}`);
  }
}
report();
process.exit(failures.length ? 1 : 0);
