/**
 * `tsvisor run --net user` end to end on the Debian guest (soft backend), one boot: the guest's
 * virtio_net binds the NIC, busybox udhcpc gets 10.0.2.15 with the gateway 10.0.2.2 from the
 * user-mode stack, the guest pings the gateway, wgets a 1 MiB file from an HTTP server this test
 * runs on the host's loopback (same MD5 on both sides), then 20 files at once; busybox httpd in the
 * guest serves a page to the host through hostfwd, once and to 20 parallel clients; a connection to
 * an address beyond the gateway fails (outbound is off). The same boot has a vsock device: the
 * guest's vmw_vsock_virtio_transport binds it, and a host CONNECT to a guest port nobody listens
 * on comes back refused (the guest kernel's RST closes the host socket without OK). Then data over
 * vsock both ways with the initramfs's /bin/vsock-echo (guests/linux/vsock-echo.c): host to guest,
 * 256 KiB through one connection and 64 KiB through each of 3 at once to an echo server in the
 * guest (the host half-closes, reads the echo to EOF and compares); guest to host, the first 300000
 * bytes of the file it downloaded to an echo server on the host's `${path}_6000` (the host sees
 * exactly those bytes; the guest's MD5 of what came back is theirs), and a connection to a host
 * port nobody listens on is reset. (Not /dev/urandom: with no entropy source the guest's blocks
 * for minutes of soft-CPU time before its CRNG is ready.) poweroff ends the
 * run with 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import { createConnection, createServer as createTcpServer, type Server as NetServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOT_LIMIT_MS, bootSkip as skip } from './linux-boot.js';
import { GuestSession } from './guest-session.js';

const BLOB_BYTES = 1 << 20, SMALL_BYTES = 48 * 1024, PARALLEL = 20;

function blob(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** A port free on 127.0.0.1 now (for the hostfwd listener the monitor opens). */
function freePort(): Promise<number> {
  const s = createTcpServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }));
}

function fetchText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/**
 * A host-initiated vsock connection through the bridge's Unix socket (Firecracker's protocol): after
 * `OK <hostport>` it sends data, half-closes, and returns all that comes back until EOF.
 */
function vsockEcho(path: string, port: number, data: Buffer): Promise<{ ok: string; echoed: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ path, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let head: Buffer | undefined = Buffer.alloc(0);
    let ok = '';
    s.on('data', (d: Buffer) => {
      if (!head) { chunks.push(d); return; }
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) return;
      ok = head.subarray(0, nl).toString('latin1');
      chunks.push(head.subarray(nl + 1));
      head = undefined;
      s.end(data);
    });
    s.on('error', reject);
    s.on('close', () => (head ? reject(new Error(`vsock port ${port}: closed without an OK line (got '${head.toString('latin1')}')`)) : resolve({ ok, echoed: Buffer.concat(chunks) })));
    s.write(`CONNECT ${port}\n`);
  });
}

/** An echo server on a Unix socket (where the bridge sends guest connections to a host port); keeps what it saw. */
function unixEchoServer(path: string, seen: Buffer[]): Promise<NetServer> {
  const server = createTcpServer({ allowHalfOpen: true }, (s: Socket) => {
    s.on('data', (d: Buffer) => { seen.push(d); s.write(d); });
    s.on('end', () => s.end());
    s.on('error', () => s.destroy());
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

test('user networking: DHCP, ping, wget 1 MiB and 20 at once from the host, httpd in the guest through hostfwd to 1 and 20 clients; vsock refusing, then echoing host to guest and guest to host', { skip, timeout: BOOT_LIMIT_MS + 200_000 }, async () => {
  const big = blob(BLOB_BYTES, 12345);
  const smalls = Array.from({ length: PARALLEL }, (_, i) => blob(SMALL_BYTES, 1000 + i));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/small\/(\d+)$/.exec(req.url ?? '');
    const body = req.url === '/blob' ? big : m && Number(m[1]) < PARALLEL ? smalls[Number(m[1])]! : undefined;
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' }).end(body);
  });
  const serverPort = await listen(server);
  const fwdPort = await freePort();
  const started = Date.now();
  const step = (what: string): void => console.log(`# ${what} done at ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-net-'));
  const vsockPath = join(dir, 'vsock');
  let hostEcho: NetServer | undefined;
  const g = new GuestSession(['--mem', '192M', '--net', `user,hostfwd=tcp:127.0.0.1:${fwdPort}-:80`, '--vsock', `3,${vsockPath}`]);
  try {
    await g.prompt();
    step('boot to the shell');
    assert.match(g.stdout, /virtio_net virtio\d+ eth0|tsvisor-guest: loaded virtio_net/);

    const dhcp = await g.run('timeout 120 udhcpc -i eth0 -n -q -t 10 -T 3; ip -4 addr show eth0; ip route', 'DHCP');
    assert.match(dhcp, /tsvisor-guest: bound eth0 10\.0\.2\.15\/255\.255\.255\.0 router 10\.0\.2\.2 dns 10\.0\.2\.3/);
    assert.match(dhcp, /inet 10\.0\.2\.15\/24/);
    assert.match(dhcp, /default via 10\.0\.2\.2 dev eth0/);
    step('DHCP');

    const ping = await g.run('ping -c 2 -W 5 10.0.2.2', 'PING');
    assert.match(ping, /2 packets transmitted, 2 packets received/);
    step('ping');

    const one = await g.run(`wget -q -O /tmp/blob http://10.0.2.2:${serverPort}/blob && echo "SIZE:$(wc -c < /tmp/blob) MD5:$(md5sum /tmp/blob)"`, 'WGET');
    assert.match(one, new RegExp(`SIZE:${BLOB_BYTES} MD5:${md5(big)}  /tmp/blob`));
    step('1 MiB wget');

    const many = await g.run(`for i in $(seq 0 ${PARALLEL - 1}); do wget -q -O /tmp/s$i http://10.0.2.2:${serverPort}/small/$i & done; wait; for i in $(seq 0 ${PARALLEL - 1}); do echo "S$i:$(md5sum < /tmp/s$i)"; done`, 'MANY');
    for (let i = 0; i < PARALLEL; i++) assert.match(many, new RegExp(`S${i}:${md5(smalls[i]!)}  -`), `parallel download ${i}`);
    assert.equal(requests.filter((r) => r.startsWith('/small/')).length, PARALLEL);
    step('20 parallel wgets');

    const refused = await g.run(`wget -O /tmp/x http://192.0.2.1:${serverPort}/blob 2>&1 || echo OUTBOUND-$((1+1))`, 'OUT');
    assert.match(refused, /can't connect to remote host \(192\.0\.2\.1\): Connection refused\s+OUTBOUND-2/, 'outbound is off: a connection beyond the gateway is refused');
    step('refused outbound');

    await g.run('mkdir -p /var/www && echo "page from the guest $((6*7))" > /var/www/index.html && httpd -h /var/www -p 80', 'HTTPD');
    const page = await fetchText(fwdPort, '/index.html');
    assert.deepEqual(page, { status: 200, body: 'page from the guest 42\n' });
    const pages = await Promise.all(Array.from({ length: PARALLEL }, () => fetchText(fwdPort, '/index.html')));
    for (const p of pages) assert.deepEqual(p, { status: 200, body: 'page from the guest 42\n' });
    step('httpd through hostfwd');

    const vsock = await g.run('ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/ | grep -c virtio', 'VSOCK');
    assert.match(vsock, /^1\r?$/m, 'the guest vsock transport bound the device');
    const refusedByGuest = await new Promise<string>((resolve, reject) => {
      const s = createConnection(vsockPath);
      let got = '';
      s.on('data', (d: Buffer) => { got += d.toString(); });
      s.on('error', reject);
      s.on('close', () => resolve(got));
      s.write('CONNECT 4321\n');
    });
    assert.equal(refusedByGuest, '', 'no OK: the guest has no listener on port 4321');
    step('vsock refused');

    g.type('vsock-echo listen 5000 &');
    await g.waitFor(/vsock-echo: listening on port 5000/);
    const one256 = blob(256 * 1024, 777);
    const h2g = await vsockEcho(vsockPath, 5000, one256);
    assert.match(h2g.ok, /^OK \d+$/);
    assert.equal(h2g.echoed.length, one256.length, 'bytes echoed by the guest');
    assert.ok(h2g.echoed.equals(one256), 'the guest echoed the same bytes');
    await g.waitFor(new RegExp(`vsock-echo: echoed ${one256.length} bytes from CID 2 port ${h2g.ok.slice(3)}`));
    const threes = [1, 2, 3].map((i) => blob(64 * 1024, 800 + i));
    const h2gMany = await Promise.all(threes.map((b) => vsockEcho(vsockPath, 5000, b)));
    for (const [i, r] of h2gMany.entries()) {
      assert.match(r.ok, /^OK \d+$/);
      assert.ok(r.echoed.equals(threes[i]!), `parallel connection ${i}: ${r.echoed.length} bytes back, same bytes`);
    }
    for (let i = 0; i < threes.length; i++) await g.waitFor(/vsock-echo: echoed 65536 bytes from CID 2 port \d+/);
    step('vsock host to guest');

    const seen: Buffer[] = [];
    hostEcho = await unixEchoServer(`${vsockPath}_6000`, seen);
    const g2h = await g.run('head -c 300000 /tmp/blob > /tmp/v && vsock-echo connect 2 6000 < /tmp/v > /tmp/w; echo "RC:$?"; md5sum /tmp/v /tmp/w', 'G2H');
    assert.match(g2h, /vsock-echo: sent 300000 bytes/);
    assert.match(g2h, /vsock-echo: received 300000 bytes/);
    assert.match(g2h, /RC:0/);
    const sent = /([0-9a-f]{32})  \/tmp\/v/.exec(g2h)?.[1], back = /([0-9a-f]{32})  \/tmp\/w/.exec(g2h)?.[1];
    const hostGot = Buffer.concat(seen);
    assert.equal(hostGot.length, 300000, 'bytes the host echo server saw');
    assert.ok(hostGot.equals(big.subarray(0, 300000)), 'the host saw the bytes the guest sent');
    assert.equal(sent, md5(hostGot), 'the guest sent what it had');
    assert.equal(back, sent, 'the guest got back what it sent');
    const noListener = await g.run('vsock-echo connect 2 6001 < /dev/null; echo "RC:$?"', 'G2H-RST');
    assert.match(noListener, /vsock-echo: connect: Connection reset by peer\s+RC:1/, 'nothing listens on the host port: the bridge resets');
    step('vsock guest to host');

    g.type('poweroff -f');
    const status = await g.closed;
    assert.equal(status, 0, `exit ${status}: ${g.stderr}\n${g.stdout.slice(-2000)}`);
    assert.equal(g.stderr, '');
  } finally {
    g.kill();
    server.close();
    hostEcho?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
