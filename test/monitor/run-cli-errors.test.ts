/** Bad input to `tsvisor run`: one clear line on stderr, exit code 1, before any guest runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsvisor } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-run-args-'));
const notKernel = join(dir, 'notes.txt');
writeFileSync(notKernel, 'not a kernel\n'.repeat(100));

const CASES: [string, string[], RegExp][] = [
  ['a missing kernel file', ['--kernel', join(dir, 'nope')], /^tsvisor run: ENOENT: cannot read kernel .*nope: ENOENT$/],
  ['a directory as the kernel', ['--kernel', dir], /^tsvisor run: EISDIR: cannot read kernel .*: it is a directory$/],
  ['a file that is no kernel', ['--kernel', notKernel], /^tsvisor run: EINVAL: .*(bzImage|ELF|kernel).*$/],
  ['a bad memory size', ['--kernel', notKernel, '--mem', 'lots'], /^tsvisor run: EINVAL: memory size must look like 256M, 2G or 512 \(MiB\), got "lots"$/],
  ['too little memory', ['--kernel', notKernel, '--mem', '16M'], /^tsvisor run: EINVAL: guest memory must be whole MiB in \[64 MiB, 64 GiB\], got 16777216 bytes$/],
  ['a missing disk image', ['--kernel', notKernel, '--disk', join(dir, 'nodisk.img')], /^tsvisor run: E[A-Z]+: .*nodisk\.img.*$/],
];

for (const [what, args, message] of CASES) {
  test(`tsvisor run refuses ${what} with one error line`, () => {
    const r = tsvisor(['run', '--backend', 'soft', '--console', 'none', ...args]);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
    assert.match(lines[0]!, message);
  });
}

test('tsvisor run refuses a bad disk option and a missing --kernel (usage errors)', () => {
  const ro = tsvisor(['run', '--kernel', notKernel, '--disk', 'x.img,rw']);
  assert.notEqual(ro.status, 0);
  assert.match(ro.stderr, /unknown disk option "rw" \(only "ro"\)/);
  const none = tsvisor(['run']);
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /required option '--kernel <file>' not specified/);
});
