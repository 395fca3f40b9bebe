/**
 * `tsvisor run --net tap=NAME` end to end on the Debian guest (soft backend), one boot, inside a
 * network namespace this test makes (root, /dev/net/tun, iproute2, busybox and curl needed; a visible skip
 * otherwise): the tap carries 192.168.77.1/24 on the host side, the guest takes .2 by hand. The
 * guest pings the host, the host pings the guest, the host fetches a page from busybox httpd in
 * the guest and the guest fetches one from an HTTP server in the namespace, checksums equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { BOOT_LIMIT_MS, bootSkip } from './linux-boot.js';
import { GuestSession } from './guest-session.js';

const NS = `tsvnet${process.pid % 100000}`, TAP = `tsvtap${process.pid % 100000}`;
const HOST_IP = '192.168.77.1', GUEST_IP = '192.168.77.2';

function namespaceSkip(): string | false {
  if (process.getuid?.() !== 0) return 'the tap test needs root (network namespace, tap device)';
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    execFileSync('ip', ['netns', 'add', `${NS}p`], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', `${NS}p`], { stdio: 'pipe' });
  } catch (e) {
    return `no network namespace with a tap here: ${(e as Error).message.split('\n')[0]}`;
  }
  // The namespace's side: busybox (httpd, ping) and curl, as .ci/run installs them.
  for (const [tool, args] of [['busybox', ['--list']], ['curl', ['--version']]] as const) {
    try {
      execFileSync(tool, [...args], { stdio: 'pipe' });
    } catch {
      return `the tap test needs ${tool} on the host (apt-get install ${tool})`;
    }
  }
  return false;
}

const skip = bootSkip || namespaceSkip();
const inNs = (args: string[], timeout = 60_000): string => execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout });

test('tap networking in a network namespace: ping both ways, HTTP both ways', { skip, timeout: BOOT_LIMIT_MS + 100_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-tap-'));
  const blob = randomBytes(256 * 1024);
  writeFileSync(join(dir, 'blob'), blob);
  execFileSync('ip', ['netns', 'add', NS]);
  let g: GuestSession | undefined;
  try {
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    inNs(['ip', 'tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
    inNs(['ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', TAP]);
    inNs(['ip', 'link', 'set', TAP, 'up']);
    // The namespace's web server: busybox httpd serving the blob (a daemon, ended with the namespace's processes below).
    inNs(['busybox', 'httpd', '-p', `${HOST_IP}:8080`, '-h', dir]);
    g = new GuestSession(['--mem', '192M', '--net', `tap=${TAP},mac=52:54:00:ab:cd:ef`], ['ip', 'netns', 'exec', NS]);
    await g.prompt();
    const up = await g.run(`ifconfig eth0 ${GUEST_IP} netmask 255.255.255.0 up && cat /sys/class/net/eth0/address && ping -c 2 -W 5 ${HOST_IP}`, 'UP');
    assert.match(up, /^52:54:00:ab:cd:ef\r?$/m);
    assert.match(up, /2 packets transmitted, 2 packets received/);
    assert.match(inNs(['busybox', 'ping', '-c', '2', '-W', '5', GUEST_IP]), /2 packets transmitted, 2 packets received/);
    const get = await g.run(`wget -q -O /tmp/blob http://${HOST_IP}:8080/blob && md5sum /tmp/blob`, 'GET');
    assert.match(get, new RegExp(`${createHash('md5').update(blob).digest('hex')}  /tmp/blob`));
    await g.run(`mkdir -p /var/www && echo "tap page $((6*7))" > /var/www/index.html && httpd -h /var/www -p 80`, 'HTTPD');
    assert.equal(inNs(['curl', '-s', '--max-time', '60', `http://${GUEST_IP}/index.html`]), 'tap page 42\n');
    g.type('poweroff -f');
    assert.equal(await g.closed, 0, `${g.stderr}\n${g.stdout.slice(-2000)}`);
    assert.equal(g.stderr, '');
  } finally {
    g?.kill();
    try { for (const pid of inNs(['ip', 'netns', 'pids', NS]).split(/\s+/).filter(Boolean)) process.kill(Number(pid)); } catch { /* already gone */ }
    try { execFileSync('ip', ['netns', 'del', NS]); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
