/** Bad input to `tsvisor toyvirt`: one clear line on stderr, exit code 1, nothing on stdout, no crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf, sampleElf } from './elf-builder.js';
import { runCli, skipUnlessCli } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'toyvirt-'));
function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const CASES: [string, string, RegExp][] = [
  ['non-ELF file', file('script.sh', '#!/bin/sh\necho hi\n'), /not an ELF file/],
  ['truncated ELF', file('trunc', sampleElf().subarray(0, 90)), /program headers .* run past the end/],
  ['32-bit ELF', file('elf32', buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(4) }], class: 1 })), /32-bit ELF/],
  ['overlapping segments', file('overlap', buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(0x20) }, { vaddr: 0x1010, bytes: new Uint8Array(4) }] })), /segments overlap/],
  ['absurdly large segment', file('huge', buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(4), memSize: 2 ** 44 }] })), /image limit/],
  ['entry outside the image', file('entry', buildElf({ entry: 0x9000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(4) }] })), /entry point 0x9000 is outside/],
  ['missing file', join(dir, 'nope'), /^tsvisor toyvirt: ENOENT: cannot read ELF file .*nope: ENOENT$/],
  // Only regular files of a bounded size: these were read forever (or, for a directory, "not found").
  ['directory', (mkdirSync(join(dir, 'adir')), join(dir, 'adir')), /^tsvisor toyvirt: EISDIR: cannot read ELF file .*adir: it is a directory$/],
  ['character device', '/dev/zero', /^tsvisor toyvirt: EINVAL: cannot read ELF file \/dev\/zero: it is a character device, not a regular file$/],
  ['file over the size limit', (() => { const p = file('sparse', ''); truncateSync(p, 2 ** 31); return p; })(), /^tsvisor toyvirt: EFBIG: ELF file .*sparse is 2147483648 bytes, more than the 1073741824-byte limit$/],
];
const fifo = join(dir, 'fifo');
if (spawnSync('mkfifo', [fifo]).status === 0) {
  CASES.push(['FIFO', fifo, /^tsvisor toyvirt: EINVAL: cannot read ELF file .*fifo: it is a FIFO, not a regular file$/]);
} else {
  console.log('# SKIP toyvirt FIFO case: mkfifo failed here');
}

for (const [what, path, message] of CASES) {
  test(`toyvirt rejects a ${what} with one error line`, { skip: skipUnlessCli() }, () => {
    const r = runCli(['toyvirt', path, '--backend', 'soft']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
    assert.match(lines[0]!, /^tsvisor toyvirt: E[A-Z]+: /);
    assert.match(lines[0]!, message);
  });
}

test('toyvirt rejects a bad --interval', { skip: skipUnlessCli() }, () => {
  const r = runCli(['toyvirt', join(dir, 'script.sh'), '--interval', 'soon']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /interval.*expected whole milliseconds, got "soon"/);
});
