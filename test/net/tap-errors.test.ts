/** openTap refuses clearly: bad names, missing interfaces, non-tap devices, a tap already held, no permission on /dev/net/tun. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VmmError } from '../../src/api/errors.js';
import { openTap } from '../../src/vmm/net/tap.js';
import { netnsUnavailableReason } from './netns.js';

const rootSkip = netnsUnavailableReason();
if (rootSkip) console.log(`# SKIP tap attach tests: ${rootSkip}`);

function vmmError(code: string, text?: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof VmmError && e.code === code && (text === undefined || text.test(e.message));
}

test('openTap: names that cannot be interface names are EINVAL; a missing interface is ENODEV', () => {
  assert.throws(() => openTap(''), vmmError('EINVAL'));
  assert.throws(() => openTap('a/b'), vmmError('EINVAL', /a\/b/));
  assert.throws(() => openTap('x'.repeat(16)), vmmError('EINVAL'));
  assert.throws(() => openTap('tsvnosuch0'), vmmError('ENODEV', /no network interface 'tsvnosuch0'/));
  assert.throws(() => openTap('lo'), vmmError('EINVAL', /not a tun\/tap/));
});

test('openTap: a tun (not tap) device is refused; a tap another descriptor holds is EBUSY', { skip: rootSkip }, async () => {
  const tun = `tsvtun${process.pid % 10000}`, tap = `tsvtb${process.pid % 10000}`;
  execFileSync('ip', ['tuntap', 'add', 'dev', tun, 'mode', 'tun']);
  execFileSync('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  try {
    assert.throws(() => openTap(tun), vmmError('EINVAL', /tun device rather than a tap/));
    const held = openTap(tap);
    try {
      assert.throws(() => openTap(tap), vmmError('EBUSY', new RegExp(tap)));
    } finally {
      await held.close();
    }
    // Once closed, it can be attached again.
    await openTap(tap).close();
  } finally {
    execFileSync('ip', ['link', 'del', tun]);
    execFileSync('ip', ['link', 'del', tap]);
  }
});

test('openTap: without permission on /dev/net/tun the error says so (run as nobody)', { skip: rootSkip }, () => {
  const tap = `tsvtp${process.pid % 10000}`;
  execFileSync('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  try {
    const module = fileURLToPath(new URL('../../src/vmm/net/tap.js', import.meta.url));
    const script = `import(${JSON.stringify(module)}).then((m) => { try { m.openTap(${JSON.stringify(tap)}); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); } })`;
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    if (r.error || (r.status !== 0 && /setpriv/.test(r.stderr))) {
      console.log(`# SKIP unprivileged openTap: cannot run as nobody here (${r.error?.message ?? r.stderr.trim()})`);
      return;
    }
    assert.match(r.stdout, /^(EACCES|EPERM) (EACCES|EPERM): tap: cannot (open \/dev\/net\/tun|attach)/, r.stderr);
  } finally {
    execFileSync('ip', ['link', 'del', tap]);
  }
});
