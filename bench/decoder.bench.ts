/**
 * Decoder throughput on real code: the .text of a system binary (/usr/bin/bash by default,
 * DECODER_BENCH_FILE to change), decoded as a linear sweep in 64-bit mode, full Instruction
 * records (operands, memory operand) each time, best of several passes.
 *
 * Reference, measured in the same run on the same bytes: GNU objdump -d disassembling that
 * .text (native C, decode + text formatting, output to /dev/null), in instructions/s, best of 3.
 * objdump does more per instruction (it formats text) but is native code; it is the standard
 * tool that walks the same instruction stream, so it is an honest yardstick rather than an
 * equal-work baseline. ratio = tsvisor / reference (above 1: the decoder is faster).
 * Also printed: a plain JS byte-sum loop over the same bytes, the floor of touching each byte once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { decode } from '../src/x86/decoder/index.js';
import { VmmError } from '../src/api/errors.js';

const FILE = process.env.DECODER_BENCH_FILE ?? '/usr/bin/bash';

function textSection(file: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'decoder-bench-'));
  try {
    const out = join(dir, 'text.bin');
    const r = spawnSync('objcopy', ['-O', 'binary', '--only-section=.text', file, out]);
    if (r.status !== 0) throw new Error(`objcopy failed on ${file}: ${String(r.stderr)}`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One linear sweep; returns the number of instructions decoded (undecodable bytes are skipped one at a time). */
function sweep(bytes: Uint8Array): { count: number; skipped: number } {
  let pos = 0, count = 0, skipped = 0;
  while (pos < bytes.length) {
    try {
      pos += decode(bytes, 64, pos).length;
      count++;
    } catch (e) {
      if (!(e instanceof VmmError)) throw e;
      pos++;
      skipped++;
    }
  }
  return { count, skipped };
}

function objdumpRate(file: string): { rate: number; count: number } {
  const list = spawnSync('objdump', ['-d', '-j', '.text', '--no-show-raw-insn', file], { encoding: 'latin1', maxBuffer: 1 << 30 });
  if (list.status !== 0) throw new Error(`objdump failed: ${list.stderr}`);
  const count = list.stdout.split('\n').filter((l) => /^\s*[0-9a-f]+:\t/.test(l)).length;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync('objdump', ['-d', '-j', '.text', '--no-show-raw-insn', file], { stdio: ['ignore', 'ignore', 'ignore'] });
    const t = performance.now() - t0;
    if (r.status !== 0) throw new Error('objdump failed');
    best = Math.min(best, t);
  }
  return { rate: count / (best / 1000), count };
}

function byteSumRate(bytes: Uint8Array, insns: number): number {
  let best = Infinity, sink = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    for (let j = 0; j < bytes.length; j++) sink = (sink + bytes[j]) | 0;
    best = Math.min(best, performance.now() - t0);
  }
  if (sink === 0.5) console.log('unreachable');
  return insns / (best / 1000);
}

const text = textSection(FILE);
let result = sweep(text); // warm-up (JIT)
result = sweep(text);
let best = Infinity;
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  sweep(text);
  best = Math.min(best, performance.now() - t0);
}
const rate = result.count / (best / 1000);
const ref = objdumpRate(FILE);
console.error(`# decoder bench: ${FILE} .text ${text.length} bytes, ${result.count} instructions ` +
  `(${result.skipped} bytes skipped as undecodable; objdump counts ${ref.count}); best sweep ${best.toFixed(1)} ms; ` +
  `byte-sum loop floor ${(byteSumRate(text, result.count) / 1e6).toFixed(0)} M instructions/s`);
console.log(JSON.stringify({
  figure: 'decoder throughput: 64-bit linear sweep of real code (reference: GNU objdump -d, same bytes)',
  tsvisor: Math.round(rate),
  reference: Math.round(ref.rate),
  unit: 'instructions/s',
  ratio: Number((rate / ref.rate).toFixed(3)),
}));
