/**
 * Runs XRSTOR/XSAVE/XSAVEOPT natively on this CPU (test/xsave/native/xsave-oracle.c, built with
 * gcc at test time; 64-bit user mode). Unavailable (no gcc, not x86-64, no XSAVE) -> a reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support.js';
import { notAmd } from '../native-oracle-build.js';

export const AREA = 576;
/** rop: 0 XRSTOR, 1 XRSTOR64, 2 none; sop: 0 XSAVE, 1 XSAVE64, 2 XSAVEOPT, 3 XSAVEOPT64. */
export interface XsaveCase {
  base: Uint8Array; rst: Uint8Array; rmask: number; rop: 0 | 1 | 2; sop: 0 | 1 | 2 | 3; smask: number; prefill: Uint8Array;
}
export type XsaveResult = { fault: 'GP' | 'UD' } | { fault: undefined; area: Uint8Array };

let built: string | undefined;
let why: string | undefined;

function oracle(): string | undefined {
  if (built || why) return built;
  if (arch() !== 'x64') { why = `the XSAVE oracle needs an x86-64 host (this is ${arch()})`; return undefined; }
  let flags = '';
  try { flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? ''; } catch { /* no procfs */ }
  if (!/\bxsave\b/.test(flags) || !/\bxsaveopt\b/.test(flags)) { why = 'this CPU (or kernel) does not offer XSAVE and XSAVEOPT'; return undefined; }
  // The comparison was established on an AMD host: its masks (xsave-native.test.ts) are that CPU's
  // departures from the model. An Intel host departs elsewhere, where the SDM leaves the image to
  // the implementation (seen on a Xeon): FCS/FDS saved as 0 (deprecated there), and XSAVEOPT's
  // writes under Intel's XINUSE tracking.
  why = notAmd("the XSAVE comparison's masks are an AMD CPU's departures from the model");
  if (why !== undefined) return undefined;
  const src = join(REPO, 'test', 'xsave', 'native', 'xsave-oracle.c');
  const dir = join(tmpdir(), 'tsvisor-xsave-oracle');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `xsave-oracle-${Math.floor(statSync(src).mtimeMs)}`);
  if (!existsSync(bin)) {
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('gcc', ['-O1', '-o', tmp, src], { encoding: 'utf8' });
    if (r.error || r.status !== 0) { why = `XSAVE oracle: gcc failed (${r.error?.message ?? r.stderr.trim()})`; return undefined; }
    renameSync(tmp, bin);
  }
  built = bin;
  return built;
}

export function xsaveOracleUnavailable(): string | undefined {
  oracle();
  return why;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function runXsaveNative(cases: readonly XsaveCase[]): XsaveResult[] {
  const bin = oracle();
  if (!bin) throw new Error(why);
  const input = cases.map((c) =>
    `${hex(c.base)} ${hex(c.rst)} ${c.rmask.toString(16)} ${c.rop} ${c.sop} ${c.smask.toString(16)} ${hex(c.prefill)}`).join('\n') + '\n';
  const r = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`XSAVE oracle exited ${r.status ?? r.signal}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== cases.length) throw new Error(`XSAVE oracle: ${lines.length} results for ${cases.length} cases`);
  return lines.map((l): XsaveResult => (l === 'GP' || l === 'UD' ? { fault: l } : { fault: undefined, area: new Uint8Array(Buffer.from(l, 'hex')) }));
}
