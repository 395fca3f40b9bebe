/**
 * What compilers emit, run: Debian's static busybox (glibc, built with its SSE2/SSSE3/SSE4.2
 * string functions: its first SSE instruction is its 43rd) runs applets at CPL3 on a soft vCPU
 * (test/sse/user-linux.ts answers its system calls) and prints what the host computes. The
 * binary comes from the Linux guest cache scripts/linux-guest.mjs fills
 * (~/.cache/tsvisor/linux/<kernel>/initramfs.cpio.gz) or TSVISOR_BUSYBOX; skipped without one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { cpioFile, runStatic } from './user-linux.js';

function findBusybox(): Uint8Array | undefined {
  const env = process.env.TSVISOR_BUSYBOX;
  if (env) return new Uint8Array(readFileSync(env));
  const cache = join(homedir(), '.cache', 'tsvisor', 'linux');
  if (!existsSync(cache)) return undefined;
  for (const dir of readdirSync(cache).filter((d) => !d.startsWith('.')).sort()) {
    const initramfs = join(cache, dir, 'initramfs.cpio.gz');
    if (!existsSync(initramfs)) continue;
    const bin = cpioFile(new Uint8Array(readFileSync(initramfs)), 'bin/busybox');
    if (bin) return bin;
  }
  return undefined;
}

const busybox = findBusybox();
const why = busybox ? undefined : 'no static busybox: run scripts/linux-guest.mjs (fills ~/.cache/tsvisor/linux) or set TSVISOR_BUSYBOX';

test('static busybox applets run to completion on the soft CPU with the host\'s answers', { skip: why }, () => {
  const run = (args: string[], stdin = '') => {
    const r = runStatic(busybox!, ['busybox', ...args], stdin);
    assert.equal(r.exitCode, 0, `busybox ${args.join(' ')} exit code`);
    return r.stdout;
  };
  assert.equal(run(['echo', 'hello', 'sse']), 'hello sse\n');
  assert.equal(run(['printf', '%s-%d-%x|%5s|\\n', 'abcdef', '42', '255', 'ab']), 'abcdef-42-ff|   ab|\n');
  assert.equal(run(['expr', 'length', 'abcdefghijklmnopqrstuvwxyz0123456789']), '36\n');
  assert.equal(run(['basename', '/usr/share/doc/busybox.txt', '.txt']), 'busybox\n');
  const words = Array.from({ length: 200 }, (_, i) => `w${(i * 7919) % 1000}-${'x'.repeat(i % 37)}`);
  assert.equal(run(['sort'], words.join('\n') + '\n'), [...words].sort().join('\n') + '\n');
  const text = Array.from({ length: 300 }, (_, i) => `line ${i}: the quick brown fox ${i * i}`).join('\n');
  assert.equal(run(['md5sum'], text), `${createHash('md5').update(text).digest('hex')}  -\n`);
  assert.equal(run(['tr', 'a-z', 'A-Z'], 'Hello SSE World'), 'HELLO SSE WORLD');
  assert.equal(run(['wc', '-c'], text), `${text.length}\n`);
});
