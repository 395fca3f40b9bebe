/**
 * Shared by the P1 and P2 benchmarks: builds the C references (bench/c/NAME.c -> bench/build/NAME
 * with cc -O2), runs them, reads this thread's CPU clock (the same clock the C programs use, so
 * other load on a shared machine does not skew the comparison), and prints the JSON lines.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { REPO } from '../test/support.js';

const libc = koffi.load('libc.so.6');
const clockGettime = libc.func('int clock_gettime(int clock, void *ts)') as (clock: number, ts: Uint8Array) => number;
const CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3;
const ts = new Uint8Array(16);
const tsView = new DataView(ts.buffer);

function clockNs(clock: number): number {
  clockGettime(clock, ts);
  return Number(tsView.getBigInt64(0, true)) * 1e9 + Number(tsView.getBigInt64(8, true));
}

/** Wall and this-thread CPU time, in ns. */
export function now(): { wall: number; cpu: number } {
  return { wall: clockNs(CLOCK_MONOTONIC), cpu: clockNs(CLOCK_THREAD_CPUTIME_ID) };
}

/** Builds bench/c/NAME.c into bench/build/NAME when missing or older than the source. */
export function buildReference(name: string): string {
  const src = join(REPO, 'bench', 'c', `${name}.c`);
  const outDir = join(REPO, 'bench', 'build');
  const out = join(outDir, name);
  mkdirSync(outDir, { recursive: true });
  let stale = true;
  try { stale = statSync(out).mtimeMs < statSync(src).mtimeMs; } catch { /* not built yet */ }
  if (stale) execFileSync('cc', ['-O2', '-Wall', '-o', out, src], { stdio: 'inherit' });
  return out;
}

/** Runs a reference; each output line is "wall cpu" for one round. */
export function runReference(binary: string, args: string[]): { wall: number; cpu: number }[] {
  const text = execFileSync(binary, args, { encoding: 'utf8' });
  return text.trim().split('\n').map((l) => {
    const [wall, cpu] = l.trim().split(/\s+/).map(Number);
    if (!Number.isFinite(wall) || !Number.isFinite(cpu)) throw new Error(`${binary}: bad output line ${JSON.stringify(l)}`);
    return { wall: wall!, cpu: cpu! };
  });
}

export function best(xs: number[]): number {
  return Math.min(...xs);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The median of the per-round ratios a[i] / b[i]: rounds alternate the two sides, so each pair
 * ran under the same background load, which the best-of-each-side figures cannot promise.
 */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

export function printFigure(figure: string, tsvisor: number, reference: number, unit: string): void {
  console.log(JSON.stringify({
    figure, tsvisor: +tsvisor.toFixed(3), reference: +reference.toFixed(3), unit, ratio: +(tsvisor / reference).toFixed(4),
  }));
}
