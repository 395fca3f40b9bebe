/**
 * The native oracles' common part: a small C program under test/ built with gcc at test time (once
 * per source version, into the temp directory; test files run in parallel, so each build goes to a
 * private name and is renamed into place), and the facts that decide whether this host can serve
 * as the reference. Each oracle keeps its own input/output protocol.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './support.js';

/** The CPU vendor string from /proc/cpuinfo (e.g. AuthenticAMD), or '' when unknown. */
export function cpuVendor(): string {
  try {
    return /vendor_id\s*:\s*(\S+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

/**
 * Why this CPU is no reference for choices the project took from the AMD CPU it established them
 * on (what: those choices, as a sentence), or undefined on an AMD CPU.
 */
export function notAmd(what: string): string | undefined {
  const vendor = cpuVendor();
  return vendor === 'AuthenticAMD' ? undefined : `${what}; this CPU is ${vendor || 'unknown'}`;
}

export type OracleBuild = { bin: string; why?: undefined } | { bin?: undefined; why: string };

const builds = new Map<string, OracleBuild>();

/**
 * The oracle built from test/<source> (what: its name in messages), or why it cannot be: not an
 * x86-64 host, or gcc failed.
 */
export function buildOracle(what: string, source: string): OracleBuild {
  const known = builds.get(source);
  if (known) return known;
  const result = build(what, source);
  builds.set(source, result);
  return result;
}

/** The newest modification time of the source and the headers beside it (which it may include). */
function versionOf(src: string): number {
  const dir = dirname(src);
  return Math.max(statSync(src).mtimeMs, ...readdirSync(dir).filter((f) => f.endsWith('.h')).map((f) => statSync(join(dir, f)).mtimeMs));
}

function build(what: string, source: string): OracleBuild {
  if (arch() !== 'x64') return { why: `${what} needs an x86-64 host (this is ${arch()})` };
  const src = join(REPO, 'test', source);
  const dir = join(tmpdir(), 'tsvisor-native-oracles');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `${source.replace(/[/.]/g, '-')}-${Math.floor(versionOf(src))}`);
  if (!existsSync(bin)) {
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('gcc', ['-O1', '-o', tmp, src], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return { why: `${what}: gcc failed (${r.error?.message ?? r.stderr.trim()})` };
    renameSync(tmp, bin);
  }
  return { bin };
}
