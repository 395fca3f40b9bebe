/** TCP through the user network against a test-side minimal peer: handshake, data, FIN, half-close, loss, windows, RST, hostfwd. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createUserNetwork } from '../../src/vmm/net/user/index.js';
import type { UserNetwork, UserNetTuning } from '../../src/vmm/net/user/index.js';
import { DNS_IP, GATEWAY_IP, ipv4 } from '../../src/vmm/net/user/addresses.js';
import { GuestSide, TCP, tcpMssOption } from './guest-side.js';
import { TcpPeer } from './tcp-peer.js';
import { defaultTuning } from '../../src/vmm/net/user/tuning.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Iterable<number>): string => Buffer.from([...b]).toString();

function fastTuning(): Partial<UserNetTuning> {
  const t = defaultTuning();
  return { tcp: { ...t.tcp, rto: { initialMs: 100, minMs: 50, maxMs: 2000 }, timeWaitMs: 50 } };
}

async function listen(handler: (s: net.Socket) => void, host = '127.0.0.1'): Promise<net.Server> {
  // Closing the stack resets what is still open: the test's server sockets see ECONNRESET then.
  const server = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => undefined); handler(s); });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function withStack(body: (g: GuestSide, n: UserNetwork) => Promise<void>, outbound = false): Promise<void> {
  const n = createUserNetwork({ hostForwards: [], outbound }, fastTuning());
  try {
    await body(new GuestSide(n), n);
  } finally {
    await n.close();
  }
}

test('TCP: handshake with MSS and window scaling, data both ways, host FIN, guest FIN, TIME-WAIT cleaned up', async () => {
  let hostGot = '';
  let hostSawEnd = false;
  const server = await listen((s) => {
    s.on('data', (d) => {
      hostGot += d.toString();
      if (hostGot === 'hello') s.end('world');
    });
    s.on('end', () => { hostSawEnd = true; });
  });
  try {
    await withStack(async (g, n) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41000, 0xfffffff0); // ISS near wrap-around
      const synAck = await peer.connect(1400, 7);
      assert.equal(tcpMssOption(synAck.options), 1460);
      assert.ok([...synAck.options].includes(3), 'window scale offered back');
      peer.write(enc('hello'));
      await peer.pump('reply and FIN', () => peer.finReceived);
      assert.equal(dec(peer.received), 'world');
      assert.equal(hostGot, 'hello');
      assert.deepEqual(n.tcpStates(), ['fin-wait-2']);
      peer.fin();
      await g.nextTcp('ACK of our FIN', (s) => peer.ours(s) && s.ack === peer.sndNxt);
      await until('host end', () => hostSawEnd);
      await until('TIME-WAIT over', () => n.tcpStates().length === 0);
    });
  } finally {
    server.close();
  }
});

test('TCP: half-close: the guest FINs first and still receives what the host sends after', async () => {
  const server = await listen((s) => {
    s.resume();
    s.on('end', () => s.end('after your FIN'));
  });
  try {
    await withStack(async (g, n) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41001);
      await peer.connect();
      peer.fin();
      await peer.pump('data after half-close', () => peer.finReceived);
      assert.equal(dec(peer.received), 'after your FIN');
      await until('closed', () => n.tcpStates().length === 0);
    });
  } finally {
    server.close();
  }
});

test('TCP: a segment the guest loses is retransmitted (same sequence number) until acknowledged', async () => {
  const data = Buffer.alloc(20_000, 0).map((_, i) => (i * 31) & 0xff);
  const server = await listen((s) => s.end(data));
  try {
    await withStack(async (g) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41002);
      await peer.connect();
      const seen = new Map<number, number>();
      let lost: number | undefined;
      await peer.pump('all data', () => peer.finReceived, (s) => {
        if (s.data.length) seen.set(s.seq, (seen.get(s.seq) ?? 0) + 1);
        // Lose the third data segment the first time it comes.
        if (s.data.length && lost === undefined && seen.size === 3) { lost = s.seq; return true; }
        return false;
      });
      assert.ok(lost !== undefined);
      assert.ok((seen.get(lost) ?? 0) >= 2, 'the lost segment was sent again');
      assert.deepEqual(Buffer.from(peer.received), data);
    });
  } finally {
    server.close();
  }
});

test('TCP: out-of-order segments from the guest are held and delivered in order; each gap is dup-ACKed', async () => {
  const chunks: Buffer[] = [];
  let ended = false;
  const server = await listen((s) => {
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => { ended = true; s.end(); });
  });
  try {
    await withStack(async (g) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41003);
      await peer.connect();
      const data = new Uint8Array(3000).map((_, i) => (i * 13) & 0xff);
      const base = peer.sndNxt;
      const seg = (o: number, n: number): void => peer.segment(TCP.ACK, data.subarray(o, o + n), (base + o) >>> 0);
      seg(1000, 1000);
      const dup1 = await g.nextTcp('dup ACK', (s) => peer.ours(s));
      seg(2000, 1000);
      const dup2 = await g.nextTcp('dup ACK 2', (s) => peer.ours(s));
      assert.equal(dup1.ack, base);
      assert.equal(dup2.ack, base);
      seg(0, 1000);
      const all = await g.nextTcp('cumulative ACK', (s) => peer.ours(s) && s.ack === ((base + 3000) >>> 0));
      assert.equal(all.ack, (base + 3000) >>> 0);
      peer.sndNxt = (base + 3000) >>> 0;
      peer.fin();
      await until('host end', () => ended);
      assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), data);
    });
  } finally {
    server.close();
  }
});

test('TCP: the stack never sends beyond the guest window, probes a zero window, and resumes when it opens', async () => {
  const data = Buffer.alloc(60_000).map((_, i) => (i * 7 + 3) & 0xff);
  const server = await listen((s) => s.end(data));
  try {
    await withStack(async (g) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41004);
      peer.window = 3000;
      await peer.connect(1000);
      let edge = (peer.rcvNxt + peer.window) >>> 0;
      let probes = 0;
      const received: number[] = [];
      let zeroed = false;
      let fin = false;
      while (!fin) {
        const s = await g.nextTcp('data', (x) => peer.ours(x));
        const end = (s.seq + s.data.length) >>> 0;
        if (zeroed) {
          // While the window is closed, nothing new goes past the edge already offered but one-byte probes.
          assert.ok(((end - edge) | 0) <= 0 || s.data.length <= 1, `segment of ${s.data.length} bytes past a closed window`);
          if (s.data.length === 1 && s.seq === peer.rcvNxt) probes++;
          if (probes === 2) { zeroed = false; peer.window = 3000; }
          peer.segment(TCP.ACK);
          const opened = (peer.rcvNxt + peer.window) >>> 0;
          if (((opened - edge) | 0) > 0) edge = opened;
          continue;
        }
        assert.ok(((end - edge) | 0) <= 0, `segment ${s.seq}+${s.data.length} beyond the window edge ${edge}`);
        assert.ok(s.data.length <= 1000, 'the guest MSS is respected');
        if (s.seq === peer.rcvNxt) {
          received.push(...s.data);
          peer.rcvNxt = (end + (s.flags & TCP.FIN ? 1 : 0)) >>> 0;
          if (s.flags & TCP.FIN) fin = true;
        }
        if (received.length >= 30_000 && probes === 0 && !zeroed) { zeroed = true; peer.window = 0; }
        peer.segment(TCP.ACK);
        const offered = (peer.rcvNxt + peer.window) >>> 0;
        if (((offered - edge) | 0) > 0) edge = offered;
      }
      assert.ok(probes >= 2, 'zero-window probes were sent');
      assert.deepEqual(Buffer.from(received), data);
    });
  } finally {
    server.close();
  }
});

test('TCP: refused: outside address with outbound off, and a gateway port nobody listens on, both get a RST', async () => {
  const closed = await listen(() => undefined);
  const deadPort = portOf(closed);
  await new Promise((resolve) => closed.close(resolve));
  await withStack(async (g, n) => {
    const out = new TcpPeer(g, ipv4('203.0.113.5'), 80, 41005, 5000);
    out.segment(TCP.SYN);
    const rst = await g.nextTcp('RST', (s) => out.ours(s));
    assert.equal(rst.flags, TCP.RST | TCP.ACK);
    assert.equal(rst.ack, 5001);
    assert.equal(n.counters.dropped['tcp-refused'], 1);
    const dead = new TcpPeer(g, GATEWAY_IP, deadPort, 41006, 7000);
    dead.segment(TCP.SYN);
    const rst2 = await g.nextTcp('RST from dead port', (s) => dead.ours(s));
    assert.equal(rst2.flags, TCP.RST | TCP.ACK);
    assert.equal(rst2.ack, 7001);
    // A stray ACK for no connection gets a RST with its ack as sequence number.
    dead.segment(TCP.ACK, undefined, 7001);
    dead.rcvNxt = 0x12345678;
    dead.segment(TCP.ACK);
    const rst3 = await g.nextTcp('RST for stray ACK', (s) => dead.ours(s) && s.seq === 0x12345678);
    assert.equal(rst3.flags, TCP.RST);
    assert.equal(n.tcpStates().length, 0);
  });
});

test('TCP: outbound on lets the guest reach a non-gateway address (a second loopback address here)', async () => {
  const server = await listen((s) => s.end('outside'), '127.0.0.2');
  try {
    await withStack(async (g) => {
      const peer = new TcpPeer(g, ipv4('127.0.0.2'), portOf(server), 41007);
      await peer.connect();
      await peer.pump('data', () => peer.finReceived);
      assert.equal(dec(peer.received), 'outside');
    }, true);
  } finally {
    server.close();
  }
});

test('TCP: a guest RST closes the host socket; a host reset sends the guest a RST', async () => {
  const hostSockets: net.Socket[] = [];
  const closes: boolean[] = [];
  const server = await listen((s) => {
    hostSockets.push(s);
    s.on('error', () => undefined);
    s.on('close', () => closes.push(true));
  });
  try {
    await withStack(async (g, n) => {
      const a = new TcpPeer(g, GATEWAY_IP, portOf(server), 41008);
      await a.connect();
      await until('host accepted', () => hostSockets.length === 1);
      a.segment(TCP.RST);
      await until('host socket closed', () => closes.length === 1);
      const b = new TcpPeer(g, GATEWAY_IP, portOf(server), 41009);
      await b.connect();
      await until('host accepted 2', () => hostSockets.length === 2);
      hostSockets[1].resetAndDestroy();
      await g.nextTcp('RST', (s) => b.ours(s) && (s.flags & TCP.RST) !== 0);
      await until('table empty', () => n.tcpStates().length === 0);
    });
  } finally {
    server.close();
  }
});

test('hostfwd=tcp: a host connection becomes a stack-initiated handshake to the guest port; data flows both ways', async () => {
  const n = createUserNetwork({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 8080 }], outbound: false }, fastTuning());
  try {
    const [bound] = await n.ready();
    const g = new GuestSide(n);
    const client = net.connect({ host: '127.0.0.1', port: bound.port, allowHalfOpen: true });
    let got = '';
    client.on('data', (d) => { got += d.toString(); });
    const clientEnded = new Promise<void>((resolve) => client.on('end', resolve));
    const probe = new TcpPeer(g, GATEWAY_IP, 0, 8080, 9000);
    const syn = await g.nextTcp('SYN', (s) => s.dstPort === 8080 && s.flags === TCP.SYN);
    assert.equal(syn.src, GATEWAY_IP);
    assert.equal(tcpMssOption(syn.options), 1460);
    const peer = new TcpPeer(g, GATEWAY_IP, syn.srcPort, 8080, 9000);
    g.skipAll();
    peer.rcvNxt = (syn.seq + 1) >>> 0;
    peer.segment(TCP.SYN | TCP.ACK);
    peer.sndNxt = 9001;
    await g.nextTcp('ACK of SYN-ACK', (s) => peer.ours(s) && s.ack === 9001);
    client.write('ping');
    await peer.pump('ping', () => peer.received.length === 4);
    assert.equal(dec(peer.received), 'ping');
    peer.write(enc('pong'));
    peer.fin();
    await clientEnded;
    assert.equal(got, 'pong');
    client.end();
    await peer.pump('FIN', () => peer.finReceived);
    await until('closed', () => n.tcpStates().length === 0);
    void probe;
  } finally {
    await n.close();
  }
});

test('TCP: an ACK for data sent before a retransmission timeout is valid (and the data riding on it is taken)', async () => {
  const data = Buffer.alloc(4000).map((_, i) => (i * 5) & 0xff);
  let hostGot = '';
  const server = await listen((s) => {
    s.write(data);
    s.on('data', (d) => { hostGot += d.toString(); if (hostGot === 'late') s.end(); });
  });
  try {
    await withStack(async (g) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41010);
      await peer.connect();
      // Take the data without acknowledging it until the stack times out and sends the first segment again.
      const first = await g.nextTcp('first data', (s) => peer.ours(s) && s.data.length > 0);
      let highest = (first.seq + first.data.length) >>> 0;
      for (;;) {
        const s = await g.nextTcp('more data or a retransmission', (x) => peer.ours(x) && x.data.length > 0);
        if (s.seq === first.seq) break;
        highest = (s.seq + s.data.length) >>> 0;
      }
      assert.equal(highest, (first.seq + data.length) >>> 0, 'all data went out before the timeout');
      // Now acknowledge everything originally sent, with data of our own on the same segment.
      peer.received.push(...data);
      peer.rcvNxt = highest;
      peer.write(enc('late'));
      await peer.pump('FIN', () => peer.finReceived);
      assert.equal(hostGot, 'late');
      assert.deepEqual(Buffer.from(peer.received), data);
    });
  } finally {
    server.close();
  }
});

test('TCP: full-sized guest segments are acknowledged every second one; a lone one and pushed data still get their ACK', async () => {
  const server = await listen((s) => s.resume());
  try {
    await withStack(async (g) => {
      const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41011);
      await peer.connect();
      const full = new Uint8Array(1460).fill(9);
      const base = peer.sndNxt;
      for (let i = 0; i < 4; i++) peer.segment(TCP.ACK, full, (base + i * 1460) >>> 0);
      peer.sndNxt = (base + 4 * 1460) >>> 0;
      const a1 = await g.nextTcp('ACK', (s) => peer.ours(s));
      const a2 = await g.nextTcp('ACK', (s) => peer.ours(s));
      assert.deepEqual([a1.ack, a2.ack], [(base + 2 * 1460) >>> 0, (base + 4 * 1460) >>> 0], 'one ACK per two segments');
      peer.segment(TCP.ACK, full);
      peer.sndNxt = (peer.sndNxt + 1460) >>> 0;
      assert.equal((await g.nextTcp('delayed ACK', (s) => peer.ours(s))).ack, peer.sndNxt, 'the odd segment is acknowledged by the timer');
      peer.write(enc('small'));
      assert.equal((await g.nextTcp('ACK of pushed data', (s) => peer.ours(s))).ack, peer.sndNxt);
    });
  } finally {
    server.close();
  }
});

test('TCP: 10.0.2.3:53 goes to the resolver over TCP; other ports of 10.0.2.3 are refused', async () => {
  const stub = await listen((s) => s.end('dns over tcp'));
  const n = createUserNetwork({ hostForwards: [], outbound: false }, { ...fastTuning(), resolver: { address: '127.0.0.1', port: portOf(stub) } });
  try {
    const g = new GuestSide(n);
    const dns = new TcpPeer(g, DNS_IP, 53, 41012);
    await dns.connect();
    await dns.pump('answer', () => dns.finReceived);
    assert.equal(dec(dns.received), 'dns over tcp');
    const other = new TcpPeer(g, DNS_IP, 80, 41013, 300);
    other.segment(TCP.SYN);
    const rst = await g.nextTcp('RST', (s) => other.ours(s));
    assert.equal(rst.flags, TCP.RST | TCP.ACK);
  } finally {
    await n.close();
    stub.close();
  }
});

test('TCP: while the guest window is closed the stack stops reading the host socket (bounded queue), and delivers everything once it opens', async () => {
  const total = 4 << 20;
  const data = Buffer.alloc(total).map((_, i) => (i * 11) & 0xff);
  let hostBlocked = false;
  let hostSocket: net.Socket | undefined;
  const server = await listen((s) => {
    hostSocket = s;
    let o = 0;
    const pump = (): void => {
      while (o < total) {
        const ok = s.write(data.subarray(o, o + 65536));
        o += 65536;
        if (!ok) { hostBlocked = true; s.once('drain', pump); return; }
      }
      s.end();
    };
    pump();
  });
  const sendBuffer = 64 * 1024;
  const n = createUserNetwork({ hostForwards: [], outbound: false }, { ...fastTuning(), tcp: { ...fastTuning().tcp!, sendBuffer } });
  try {
    const g = new GuestSide(n);
    const peer = new TcpPeer(g, GATEWAY_IP, portOf(server), 41014);
    peer.window = 0;
    await peer.connect();
    await until('the host writer blocked', () => hostBlocked);
    // Let the host socket settle: its unsent bytes stop changing once nobody reads it.
    let last = -1, stable = 0;
    await until('the host socket settled', () => {
      const now = hostSocket!.writableLength;
      stable = now === last ? stable + 1 : 0;
      last = now;
      return stable >= 5;
    });
    const queued = n.tcpQueuedForGuest()[0];
    assert.ok(queued <= sendBuffer + 65536, `the stack read ${queued} bytes ahead of a closed window (limit ${sendBuffer} + one read)`);
    peer.window = 65535;
    peer.segment(TCP.ACK); // window update
    await peer.pump('all data', () => peer.finReceived);
    assert.equal(peer.received.length, total);
    assert.ok(Buffer.from(peer.received).equals(data));
  } finally {
    await n.close();
    server.close();
  }
});
