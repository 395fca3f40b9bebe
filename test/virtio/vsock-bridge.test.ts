/**
 * The vsock host bridge (Firecracker's Unix-socket protocol) against a scripted guest that speaks
 * virtio-vsock packets: host-initiated CONNECT/OK with data both ways and shutdown, a guest
 * connection to PATH_<port>, a refused one, credit limiting what reaches the guest, a bad CONNECT
 * line, and packets for no connection answered with RST.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VsockUnixBridge } from '../../src/vmm/devices/virtio/vsock-unix-bridge.js';
import {
  VSOCK_HEADER_BYTES, VSOCK_OP, VSOCK_SHUTDOWN, VSOCK_TYPE_STREAM, decodeVsockHeader, encodeVsockPacket, type VsockHeader,
} from '../../src/vmm/devices/virtio/vsock-packet.js';

const CID = 42;

interface Packet { h: VsockHeader; payload: Buffer }

/** The guest end: what the bridge sent, awaited one at a time. */
class FakeGuest {
  readonly got: Packet[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly bridge: VsockUnixBridge) {
    bridge.onPacket = (p) => {
      const h = decodeVsockHeader(p);
      assert.ok(typeof h !== 'string', `bridge sent a malformed packet: ${String(h)}`);
      this.got.push({ h, payload: Buffer.from(p.subarray(VSOCK_HEADER_BYTES)) });
      for (const w of this.waiters.splice(0)) w();
    };
  }
  async next(): Promise<Packet> {
    while (this.got.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    return this.got.shift()!;
  }
  send(srcPort: number, dstPort: number, op: number, opts: { payload?: Uint8Array; flags?: number; bufAlloc?: number; fwdCnt?: number } = {}): void {
    this.bridge.receive(encodeVsockPacket({
      srcCid: CID, dstCid: 2, srcPort, dstPort, type: VSOCK_TYPE_STREAM, op,
      flags: opts.flags ?? 0, bufAlloc: opts.bufAlloc ?? 65536, fwdCnt: opts.fwdCnt ?? 0,
    }, opts.payload));
  }
}

function reader(s: Socket): { text: () => string; until: (re: RegExp) => Promise<void>; ended: Promise<void> } {
  let buf = '';
  const waiters: (() => void)[] = [];
  s.on('data', (d: Buffer) => { buf += d.toString('latin1'); for (const w of waiters.splice(0)) w(); });
  const ended = new Promise<void>((r) => s.on('end', () => { for (const w of waiters.splice(0)) w(); r(); }));
  return {
    text: () => buf,
    until: async (re) => { while (!re.test(buf)) await new Promise<void>((r) => waiters.push(r)); },
    ended,
  };
}

async function withBridge(fn: (b: VsockUnixBridge, g: FakeGuest, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vsock-'));
  const path = join(dir, 'v.sock');
  const b = new VsockUnixBridge(CID, path);
  await b.listen();
  try {
    await fn(b, new FakeGuest(b), path);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('host CONNECT <port>: REQUEST to the guest, OK <hostport> after its RESPONSE, data both ways, shutdown', () => withBridge(async (b, g, path) => {
  const s = createConnection(path);
  const r = reader(s);
  s.write('CONNECT 5000\nearly');
  const req = await g.next();
  assert.equal(req.h.op, VSOCK_OP.REQUEST);
  assert.equal(req.h.dstCid, CID);
  assert.equal(req.h.dstPort, 5000);
  assert.equal(req.h.srcCid, 2);
  const hostPort = req.h.srcPort;
  g.send(5000, hostPort, VSOCK_OP.RESPONSE);
  await r.until(/^OK \d+\n/);
  assert.equal(r.text(), `OK ${hostPort}\n`);
  const early = await g.next();
  assert.equal(early.h.op, VSOCK_OP.RW);
  assert.equal(early.payload.toString(), 'early', 'bytes after the CONNECT line are data');
  g.send(5000, hostPort, VSOCK_OP.RW, { payload: Buffer.from('from the guest') });
  await r.until(/from the guest/);
  s.write('more');
  const more = await g.next();
  assert.equal(more.payload.toString(), 'more');
  g.send(5000, hostPort, VSOCK_OP.SHUTDOWN, { flags: VSOCK_SHUTDOWN.SEND | VSOCK_SHUTDOWN.RCV });
  assert.equal((await g.next()).h.op, VSOCK_OP.RST);
  await r.ended;
  assert.equal(b.connections, 0);
}));

test('a guest RST refuses a host CONNECT: the host socket is closed without OK', () => withBridge(async (_b, g, path) => {
  const s = createConnection(path);
  const r = reader(s);
  s.write('CONNECT 7\n');
  const req = await g.next();
  g.send(7, req.h.srcPort, VSOCK_OP.RST);
  await new Promise<void>((resolve) => s.on('close', () => resolve()));
  assert.equal(r.text(), '');
}));

test('a CONNECT line that is not one closes the host socket', () => withBridge(async (b, g, path) => {
  for (const line of ['HELLO 5\n', 'CONNECT -1\n', 'CONNECT 99999999999\n', 'x'.repeat(100)]) {
    const s = createConnection(path);
    s.on('error', () => {});
    s.write(line);
    await new Promise<void>((resolve) => s.on('close', () => resolve()));
  }
  assert.equal(g.got.length, 0);
  assert.equal(b.connections, 0);
}));

test('a guest connection to port P reaches PATH_P; with no listener there the guest gets RST', () => withBridge(async (b, g, path) => {
  const server = createServer({ allowHalfOpen: true }, (s) => { s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))); s.on('end', () => s.end()); });
  await new Promise<void>((resolve) => server.listen(`${path}_6000`, () => resolve()));
  try {
    g.send(1234, 6000, VSOCK_OP.REQUEST);
    const resp = await g.next();
    assert.equal(resp.h.op, VSOCK_OP.RESPONSE);
    assert.deepEqual([resp.h.srcPort, resp.h.dstPort], [6000, 1234]);
    g.send(1234, 6000, VSOCK_OP.RW, { payload: Buffer.from('ping') });
    const echo = await g.next();
    assert.equal(echo.h.op, VSOCK_OP.RW);
    assert.equal(echo.payload.toString(), 'echo:ping');
    g.send(1234, 6000, VSOCK_OP.SHUTDOWN, { flags: VSOCK_SHUTDOWN.SEND });
    const shut = await g.next();
    assert.equal(shut.h.op, VSOCK_OP.SHUTDOWN, 'the host ended its side in turn');
    assert.equal(shut.h.flags, VSOCK_SHUTDOWN.SEND);
    g.send(1234, 6000, VSOCK_OP.RST);
    assert.equal(b.connections, 0);
  } finally {
    server.close();
  }
  g.send(1235, 6001, VSOCK_OP.REQUEST);
  const refused = await g.next();
  assert.equal(refused.h.op, VSOCK_OP.RST);
  assert.deepEqual([refused.h.srcPort, refused.h.dstPort], [6001, 1235]);
}));

test('the guest gets no more than its credit; a credit update lets the rest through, in 4 KiB packets', () => withBridge(async (_b, g, path) => {
  const s = createConnection(path);
  const r = reader(s);
  s.write('CONNECT 80\n');
  const req = await g.next();
  const hostPort = req.h.srcPort;
  g.send(80, hostPort, VSOCK_OP.RESPONSE, { bufAlloc: 10000 });
  await r.until(/^OK/);
  const data = Buffer.alloc(30000, 7);
  s.write(data);
  let got = 0;
  while (got < 10000) {
    const p = await g.next();
    assert.equal(p.h.op, VSOCK_OP.RW);
    assert.ok(p.payload.length <= 4096);
    got += p.payload.length;
  }
  assert.equal(got, 10000, 'exactly the credit');
  // Let the host side settle: nothing more may come until the guest frees buffer space.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(g.got.length, 0);
  g.send(80, hostPort, VSOCK_OP.CREDIT_UPDATE, { bufAlloc: 10000, fwdCnt: 10000 });
  while (got < 20000) got += (await g.next()).payload.length;
  assert.equal(got, 20000);
  g.send(80, hostPort, VSOCK_OP.CREDIT_UPDATE, { bufAlloc: 65536, fwdCnt: 20000 });
  while (got < 30000) got += (await g.next()).payload.length;
  assert.equal(got, 30000);
  s.destroy();
  const shut = await g.next();
  assert.deepEqual([shut.h.op, shut.h.flags], [VSOCK_OP.SHUTDOWN, VSOCK_SHUTDOWN.SEND], 'the host closing: it sends no more');
  g.send(80, hostPort, VSOCK_OP.SHUTDOWN, { flags: VSOCK_SHUTDOWN.SEND | VSOCK_SHUTDOWN.RCV });
  assert.equal((await g.next()).h.op, VSOCK_OP.RST, 'closed both ways: the bridge ends it with RST');
}));

test('packets for no connection get RST; malformed and foreign packets are counted', () => withBridge(async (b, g) => {
  g.send(9, 9, VSOCK_OP.RW, { payload: Buffer.from('x') });
  assert.equal((await g.next()).h.op, VSOCK_OP.RST);
  g.send(9, 9, VSOCK_OP.RST);
  b.receive(new Uint8Array(10));
  b.receive(encodeVsockPacket({ srcCid: 77, dstCid: 2, srcPort: 1, dstPort: 1, type: 1, op: 1, flags: 0, bufAlloc: 0, fwdCnt: 0 }));
  assert.equal(b.malformed, 2);
  assert.equal(g.got.length, 0, 'no answer to an RST or to junk');
}));

test('listen refuses a path that exists', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsock-'));
  try {
    await assert.rejects(new VsockUnixBridge(CID, dir).listen(), /EEXIST: --vsock: .* already exists/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
