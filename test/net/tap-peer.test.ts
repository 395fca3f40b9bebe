/**
 * The user network against the real Linux TCP/IP stack: a network namespace whose tap device is
 * attached to the stack plays the guest (see netns.ts). HTTP downloads through the gateway,
 * hostfwd to a server in the namespace, 20 parallel connections each way, UDP, and DHCP with
 * udhcpc when busybox is installed. Skips with a message where namespaces or tun are not usable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { createUserNetwork } from '../../src/vmm/net/user/index.js';
import type { UserNetwork } from '../../src/vmm/net/user/index.js';
import { GuestNamespace, netnsUnavailableReason } from './netns.js';
import { Rng, testSeed } from '../exec/rng.js';

const skip = netnsUnavailableReason();
if (skip) console.log(`# SKIP tap-peer tests: ${skip}`);

const PYTHON = (() => {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { stdio: 'pipe' }).toString().trim();
  } catch {
    return undefined;
  }
})();

const CURL_MISSING = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'pipe' });
    return false;
  } catch {
    return 'curl is not installed';
  }
})();

const BUSYBOX = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v busybox'], { stdio: 'pipe' }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
})();

async function withPeer(tag: string, forwards: Parameters<typeof createUserNetwork>[0]['hostForwards'],
  body: (g: GuestNamespace, n: UserNetwork, ports: number[]) => Promise<void>, configure = true,
  lose: () => boolean = () => false): Promise<void> {
  const n = createUserNetwork({ hostForwards: forwards, outbound: false });
  const bound = await n.ready();
  const g = await GuestNamespace.create(tag);
  // The wire between the namespace and the stack; `lose` drops frames on it, in both directions.
  g.tap.onReceive = (f) => { if (!lose()) n.send(f); };
  n.onReceive = (f) => { if (!lose()) g.tap.send(f); };
  try {
    if (configure) await g.configureStatic();
    await body(g, n, bound.map((b) => b.port));
    assert.equal(n.counters.dropped['internal-error'], 0);
  } finally {
    await g.destroy();
    await n.close();
  }
}

/** An HTTP server on host loopback: GET returns the blob; POST returns the sha256 of what was posted. */
async function blobServer(blob: Uint8Array): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') { res.end(blob); return; }
    const h = createHash('sha256');
    req.on('data', (d: Buffer) => h.update(d));
    req.on('end', () => res.end(h.digest('hex')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

test('real peer: curl in the namespace fetches 1 MiB from, and posts 1 MiB to, a host loopback HTTP server through 10.0.2.2', { skip: skip ?? CURL_MISSING }, async () => {
  const blob = randomBytes(1 << 20);
  const { server, port } = await blobServer(blob);
  try {
    await withPeer('dl', [], async (g) => {
      const out = await g.exec('sh', ['-c', `curl -sf http://10.0.2.2:${port}/blob | sha256sum`]);
      assert.equal(out.split(' ')[0], sha256(blob));
      // And the other way: curl posts 1 MiB of its own, the server says what it received.
      const up = await g.exec('sh', ['-c', `f=$(mktemp); head -c 1048576 /dev/urandom > $f; sha256sum < $f | cut -d' ' -f1; curl -sf --data-binary @$f -H 'Expect:' -H 'Content-Type: application/octet-stream' http://10.0.2.2:${port}/up; rm -f $f`]);
      const [local, remote] = up.split('\n');
      assert.equal(remote, local);
    });
  } finally {
    server.close();
  }
});

test('real peer: over a link losing 3% of frames each way (seeded), 1 MiB down and up arrive intact', { skip: skip ?? CURL_MISSING }, async () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const blob = randomBytes(1 << 20);
  const { server, port } = await blobServer(blob);
  try {
    await withPeer('loss', [], async (g) => {
      const out = await g.exec('sh', ['-c', `curl -sf -m 60 http://10.0.2.2:${port}/ | sha256sum | cut -d' ' -f1; f=$(mktemp); head -c 1048576 /dev/urandom > $f; sha256sum < $f | cut -d' ' -f1; curl -sf -m 60 -H 'Expect:' --data-binary @$f http://10.0.2.2:${port}/up; rm -f $f`], 120_000);
      const [down, local, remote] = out.split('\n');
      assert.equal(down, sha256(blob), `seed ${seed}: download`);
      assert.equal(remote, local, `seed ${seed}: upload`);
    }, true, () => rng.next() < 0.03);
  } catch (e) {
    console.log(`# lossy-link seed ${seed} (rerun with TSVISOR_SEED=${seed})`);
    throw e;
  } finally {
    server.close();
  }
});

test('real peer: hostfwd reaches an HTTP server in the namespace; 1 MiB both ways', { skip: skip ?? (!PYTHON && 'python3 is not installed') }, async () => {
  const blob = randomBytes(1 << 20);
  await withPeer('fw', [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 8000 }], async (g, _n, [port]) => {
    // A tiny server in the namespace: GET returns 1 MiB of a seeded pattern, POST returns the sha256 of the body.
    const script = `
import http.server, hashlib, random
data = random.Random(7).randbytes(1 << 20)
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.send_header('Content-Length', str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        h = hashlib.sha256(body).hexdigest().encode()
        self.send_response(200); self.send_header('Content-Length', str(len(h))); self.end_headers(); self.wfile.write(h)
http.server.ThreadingHTTPServer(('10.0.2.15', 8000), H).serve_forever()
`;
    const child = spawn('ip', ['netns', 'exec', g.ns, PYTHON!, '-c', script], { stdio: 'ignore' });
    try {
      const expected = await g.exec(PYTHON!, ['-c', "import random,hashlib,sys; sys.stdout.write(hashlib.sha256(random.Random(7).randbytes(1 << 20)).hexdigest())"]);
      let got: Buffer | undefined;
      for (let attempt = 0; attempt < 100 && !got; attempt++) {
        got = await httpRequest(port, 'GET').catch(async () => { await new Promise((r) => setTimeout(r, 100)); return undefined; });
      }
      assert.ok(got, 'the server in the namespace answered through hostfwd');
      assert.equal(sha256(got), expected);
      const posted = await httpRequest(port, 'POST', blob);
      assert.equal(posted.toString(), sha256(blob));
    } finally {
      child.kill();
    }
  });
});

function httpRequest(port: number, method: string, body?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false,
      headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('HTTP request through hostfwd stalled')));
    req.end(body);
  });
}

test('real peer: 20 parallel connections each way (guest->host echo, host->guest echo through hostfwd)', { skip: skip ?? (!PYTHON && 'python3 is not installed') }, async () => {
  const echo = net.createServer((s) => { s.on('error', () => undefined); s.pipe(s); });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as net.AddressInfo).port;
  try {
    await withPeer('par', [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 9000 }], async (g, n, [fwdPort]) => {
      // Guest -> host: 20 threads, each sends 200 KB and reads it back.
      const clients = `
import socket, threading, os, sys
ok = []
def one(i):
    data = os.urandom(200000)
    s = socket.create_connection(('10.0.2.2', ${echoPort})); s.settimeout(30)
    def send(): s.sendall(data); s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send); t.start()
    got = b''
    while True:
        c = s.recv(65536)
        if not c: break
        got += c
    t.join(); s.close()
    ok.append(got == data)
ts = [threading.Thread(target=one, args=(i,)) for i in range(20)]
[t.start() for t in ts]; [t.join() for t in ts]
sys.stdout.write('%d/%d' % (sum(ok), len(ok)))
`;
      assert.equal(await g.exec(PYTHON!, ['-c', clients]), '20/20');
      // Host -> guest: an echo server in the namespace, 20 parallel host connections through hostfwd.
      const server = `
import socket, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('10.0.2.15', 9000)); srv.listen(64)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`;
      const child = spawn('ip', ['netns', 'exec', g.ns, PYTHON!, '-c', server], { stdio: 'ignore' });
      try {
        await waitForEcho(fwdPort);
        const results = await Promise.all(Array.from({ length: 20 }, () => echoThrough(fwdPort, randomBytes(200_000))));
        assert.equal(results.filter((r) => r).length, 20);
      } finally {
        child.kill();
      }
      void n;
    });
  } finally {
    echo.close();
  }
});

async function waitForEcho(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await echoThrough(port, Buffer.from('ready?')).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the echo server in the namespace never answered through hostfwd');
}

function echoThrough(port: number, data: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => { s.end(); resolve(Buffer.concat(parts).equals(data)); });
    s.on('error', reject);
    // A stalled connection fails the test with a message instead of hanging it.
    s.setTimeout(30_000, () => { s.destroy(); reject(new Error(`hostfwd connection stalled after ${Buffer.concat(parts).length} of ${data.length} bytes`)); });
    s.on('connect', () => s.end(data));
  });
}

test('real peer: UDP from the namespace to a host echo server through 10.0.2.2', { skip: skip ?? (!PYTHON && 'python3 is not installed') }, async () => {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (m, r) => sock.send(Buffer.concat([Buffer.from('re:'), m]), r.port, r.address));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  try {
    await withPeer('udp', [], async (g) => {
      const out = await g.exec(PYTHON!, ['-c', `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(b'x' * 3000, ('10.0.2.2', ${sock.address().port}))
d, a = s.recvfrom(65536)
sys.stdout.write('%s %d %s' % (a[0], len(d), d[:3].decode()))
`]);
      assert.equal(out, '10.0.2.2 3003 re:');
    });
  } finally {
    sock.close();
  }
});

test('real peer: udhcpc (busybox) gets 10.0.2.15, the router and the DNS server by DHCP', { skip: skip ?? (!BUSYBOX && 'busybox is not installed (apt-get install busybox)') }, async () => {
  await withPeer('dhcp', [], async (g) => {
    // udhcpc runs its script with the lease in the environment; print what it was given.
    const script = '#!/bin/sh\n[ "$1" = bound ] && echo "ip=$ip subnet=$subnet router=$router dns=$dns lease=$lease"\nexit 0\n';
    const out = await g.exec('sh', ['-c', `f=$(mktemp); printf '%s' '${script}' > $f; chmod +x $f; ${BUSYBOX} udhcpc -f -q -n -t 5 -i ${g.tapName} -s $f; rm -f $f`]);
    assert.match(out, /ip=10\.0\.2\.15 subnet=255\.255\.255\.0 router=10\.0\.2\.2 dns=10\.0\.2\.3 lease=86400/);
  }, false);
});
