/** `--net` specs: what each form parses to, MACs assigned across NICs, and every malformed value refused with its name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignMacs, macBytes, parseNetSpec } from '../../src/vmm/core/net-config.js';
import { VmmError } from '../../src/api/errors.js';
import { tsvisor } from '../cli/run-cli.js';

test('user with forwards, outbound and mac; tap with a name', () => {
  assert.deepEqual(parseNetSpec('user'), { mac: undefined, backend: { kind: 'user', options: { hostForwards: [], outbound: false } } });
  assert.deepEqual(parseNetSpec('user,hostfwd=tcp:127.0.0.1:6022-:22,hostfwd=udp::5353-10.0.2.15:53,hostfwd=:8080-:80,outbound=on,mac=52:54:00:AB:cd:01'), {
    mac: '52:54:00:ab:cd:01',
    backend: { kind: 'user', options: { outbound: true, hostForwards: [
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 6022, guestPort: 22 },
      { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 },
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 },
    ] } },
  });
  assert.deepEqual(parseNetSpec('user,outbound=off,hostfwd=tcp:0.0.0.0:1-:65535').backend, { kind: 'user', options: { outbound: false, hostForwards: [{ protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 1, guestPort: 65535 }] } });
  assert.deepEqual(parseNetSpec('tap=tap0,mac=02-00-00-00-00-01'), { mac: '02:00:00:00:00:01', backend: { kind: 'tap', name: 'tap0' } });
});

const BAD: [string, RegExp][] = [
  ['', /expected user\[,\.\.\.\] or tap=NAME/],
  ['slirp', /expected user.*got "slirp"/],
  ['user,foo=1', /unknown user network option "foo"/],
  ['user,outbound', /expected KEY=VALUE, got "outbound"/],
  ['user,outbound=yes', /outbound must be on or off, got "yes"/],
  ['user,outbound=on,outbound=off', /outbound= given twice/],
  ['user,hostfwd=tcp:127.0.0.1:6022', /hostfwd must look like tcp:127\.0\.0\.1:6022-:22/],
  ['user,hostfwd=sctp:127.0.0.1:1-:2', /hostfwd must look like/],
  ['user,hostfwd=tcp:localhost:1-:2', /host address must be an IPv4 address, got "localhost"/],
  ['user,hostfwd=tcp::0-:22', /host port must be 1\.\.65535, got "0"/],
  ['user,hostfwd=tcp::70000-:22', /host port must be 1\.\.65535, got "70000"/],
  ['user,hostfwd=tcp::22-:', /guest port must be 1\.\.65535, got ""/],
  ['user,hostfwd=tcp::22-10.0.2.16:22', /guest address can only be the guest's 10\.0\.2\.15, got "10\.0\.2\.16"/],
  ['user,hostfwd=tcp::22-:22,hostfwd=tcp:127.0.0.1:22-:23', /hostfwd tcp:127\.0\.0\.1:22 is forwarded twice/],
  ['user,mac=52:54:00:12:34', /mac must be six hex pairs.*"52:54:00:12:34"/],
  ['user,mac=01:00:5e:00:00:01', /multicast/],
  ['user,mac=00:00:00:00:00:00', /not an address/],
  ['user,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57', /mac= given twice/],
  ['tap', /tap needs an interface name.*got ""/],
  ['tap=', /tap needs an interface name/],
  ['tap=a/b', /tap needs an interface name.*"a\/b"/],
  ['tap=abcdefghijklmnop', /tap needs an interface name of 1\.\.15/],
  ['tap=tap0,hostfwd=tcp::1-:2', /unknown tap option "hostfwd" \(only mac\)/],
];

for (const [spec, message] of BAD) {
  test(`--net ${JSON.stringify(spec)} is refused`, () => {
    assert.throws(() => parseNetSpec(spec), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && message.test(e.message) && e.message.startsWith(`EINVAL: --net ${spec}:`));
  });
}

test('NICs without a MAC get 52:54:00:12:34:56 counting up, skipping given ones; a MAC twice is refused', () => {
  const nics = assignMacs(['user', 'tap=t0,mac=52:54:00:12:34:57', 'user', 'user'].map(parseNetSpec));
  assert.deepEqual(nics.map((n) => n.mac), ['52:54:00:12:34:56', '52:54:00:12:34:57', '52:54:00:12:34:58', '52:54:00:12:34:59']);
  assert.deepEqual([...macBytes(nics[0]!.mac)], [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
  assert.throws(() => assignMacs(['user,mac=02:00:00:00:00:01', 'tap=x,mac=02:00:00:00:00:01'].map(parseNetSpec)), /two NICs with MAC 02:00:00:00:00:01/);
});

test('tsvisor run refuses a malformed --net with one error line, before any guest runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-net-args-'));
  const kernel = join(dir, 'k');
  writeFileSync(kernel, 'not a kernel');
  const r = tsvisor(['run', '--backend', 'soft', '--console', 'none', '--kernel', kernel, '--net', 'user,hostfwd=tcp::99999-:22']);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, 'tsvisor run: EINVAL: --net user,hostfwd=tcp::99999-:22: hostfwd host port must be 1..65535, got "99999"\n');
  const dup = tsvisor(['run', '--backend', 'soft', '--console', 'none', '--kernel', kernel, '--net', 'user,mac=02:00:00:00:00:01', '--net', 'tap=t0,mac=02:00:00:00:00:01']);
  assert.equal(dup.status, 1, dup.stderr);
  assert.equal(dup.stderr, 'tsvisor run: EINVAL: --net: two NICs with MAC 02:00:00:00:00:01\n');
  const tap = tsvisor(['run', '--backend', 'soft', '--console', 'none', '--kernel', kernel, '--net', 'tap=tsvnotthere0']);
  assert.equal(tap.status, 1, tap.stderr);
  assert.match(tap.stderr, /^tsvisor run: (ENODEV|EACCES|EPERM): tap: .*tsvnotthere0.*\n$/);
  const vsock = tsvisor(['run', '--kernel', kernel, '--vsock', '2,/tmp/x']);
  assert.notEqual(vsock.status, 0);
  assert.match(vsock.stderr, /--vsock <cid,path>.*invalid\. expected CID,PATH with CID in 3\.\.4294967294, got "2,\/tmp\/x"/);
  const help = tsvisor(['run', '--help']);
  assert.match(help.stdout, /--net <spec>/);
  assert.match(help.stdout, /hostfwd=\[tcp\|udp\]:\[HOSTADDR\]:HOSTPORT-:GUESTPORT/);
  assert.match(help.stdout, /outbound=on lets the guest reach addresses other than\s+the gateway/);
});
