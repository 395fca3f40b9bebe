/**
 * Runs x87 instructions natively on this CPU (test/x87/native/x87-oracle.c, built with gcc at
 * test time): state in as a 108-byte FRSTOR image, state out as the FNSAVE image. Unavailable
 * (no gcc, not x86-64, not an AMD CPU) -> a reason.
 *
 * AMD only: where the manuals leave x87 behaviour open (condition codes the SDM calls
 * undefined, the undocumented aliases such as D9 D8+i, the exception priorities between a
 * denormal and a zero divisor, transcendental last bits) the soft CPU follows the AMD EPYC it
 * was checked on; another vendor's CPU would report those choices, not bugs.
 */
import { spawnSync } from 'node:child_process';
import { buildOracle, notAmd } from '../native-oracle-build.js';

export const MEM_BYTES = 128;
export const IMG_BYTES = 108;

export interface X87Case { code: Uint8Array; img: Uint8Array; mem: Uint8Array; rflags: number }
export type X87Result =
  | { fault: 'MF' | 'UD' | 'SEGV' }
  | { fault: undefined; img: Uint8Array; mem: Uint8Array; rax: number; rflags: number };

let built: string | undefined;
let why: string | undefined;

function oracle(): string | undefined {
  if (built || why) return built;
  const b = buildOracle('the x87 oracle', 'x87/native/x87-oracle.c');
  why = b.why ?? notAmd("the x87 model's choices where the manuals leave behaviour open are AMD's");
  if (why === undefined) built = b.bin;
  return built;
}

export function x87OracleUnavailable(): string | undefined {
  oracle();
  return why;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

export function runX87Native(cases: X87Case[]): X87Result[] {
  const bin = oracle();
  if (!bin) throw new Error(why);
  const out: X87Result[] = [];
  for (let i = 0; i < cases.length; i += 20000) {
    const batch = cases.slice(i, i + 20000);
    const input = batch.map((c) => `${hex(c.code)} ${hex(c.img)} ${hex(c.mem)} ${c.rflags.toString(16)}`).join('\n') + '\n';
    const r = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`x87 oracle exited ${r.status ?? r.signal}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    if (lines.length !== batch.length) throw new Error(`x87 oracle: ${lines.length} results for ${batch.length} cases`);
    for (const line of lines) {
      if (line === 'MF' || line === 'UD' || line === 'SEGV') { out.push({ fault: line }); continue; }
      const f = line.split(' ');
      out.push({ fault: undefined, img: unhex(f[0]!), mem: unhex(f[1]!), rax: parseInt(f[2]!, 16), rflags: parseInt(f[3]!, 16) });
    }
  }
  return out;
}
