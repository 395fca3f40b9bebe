/** The user network's own services with handcrafted frames: ARP, DHCP, ICMP echo, UDP relay, DNS relay, fragments. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { createUserNetwork } from '../../src/vmm/net/user/index.js';
import type { UserNetwork } from '../../src/vmm/net/user/index.js';
import { VmmError } from '../../src/api/errors.js';
import { DNS_IP, GATEWAY_IP, GUEST_IP, STACK_MAC, ipv4 } from '../../src/vmm/net/user/addresses.js';
import { read16, read32 } from '../../src/vmm/net/user/bytes.js';
import { GUEST_MAC, GuestSide, parseIpFrame, udpDatagram } from './guest-side.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));
}

async function withNet(body: (g: GuestSide, n: UserNetwork) => Promise<void>, extra: Parameters<typeof createUserNetwork>[1] = {}): Promise<void> {
  const n = createUserNetwork({ hostForwards: [], outbound: false }, extra);
  try {
    await body(new GuestSide(n), n);
  } finally {
    await n.close();
  }
}

test('ARP: a request for the gateway (bytes written out by hand) gets a reply from the stack MAC', () => withNet(async (g, n) => {
  // who-has 10.0.2.2 tell 10.0.2.15, from 52:54:00:12:34:56, broadcast.
  g.sendFrame(hex(`ffffffffffff 525400123456 0806  0001 0800 06 04 0001  525400123456 0a00020f  000000000000 0a000202`));
  const reply = await g.next('ARP reply', (f) => (read16(f, 12) === 0x0806 ? f : undefined));
  assert.deepEqual(reply.subarray(0, 6), GUEST_MAC);
  assert.deepEqual(reply.subarray(6, 12), STACK_MAC);
  assert.equal(read16(reply, 20), 2, 'opcode reply');
  assert.deepEqual(reply.subarray(22, 28), STACK_MAC, 'sender MAC');
  assert.equal(read32(reply, 28), GATEWAY_IP, 'sender IP');
  assert.deepEqual(reply.subarray(32, 38), GUEST_MAC, 'target MAC');
  assert.deepEqual(reply.subarray(38, 42), Uint8Array.of(10, 0, 2, 15), 'target IP');
  // Nobody answers for the guest's own address (a gratuitous ARP / duplicate address probe).
  g.sendFrame(hex(`ffffffffffff 525400123456 0806  0001 0800 06 04 0001  525400123456 00000000  000000000000 0a00020f`));
  g.sendFrame(hex(`ffffffffffff 525400123456 0806  0001 0800 06 04 0001  525400123456 0a00020f  000000000000 0a000203`));
  const dnsReply = await g.next('ARP reply for .3', (f) => (read16(f, 12) === 0x0806 ? f : undefined));
  assert.equal(read32(dnsReply, 28), DNS_IP, 'the first reply after the probe is the one for 10.0.2.3');
  assert.equal(n.counters.dropped['arp-malformed'], 0);
}));

function dhcpMessage(type: number, xid: number, extra: number[] = []): Uint8Array {
  const b = new Uint8Array(240 + 3 + extra.length + 1);
  b[0] = 1; b[1] = 1; b[2] = 6;
  new DataView(b.buffer).setUint32(4, xid);
  b.set(GUEST_MAC, 28);
  b.set([0x63, 0x82, 0x53, 0x63], 236);
  b.set([53, 1, type, ...extra, 255], 240);
  return b;
}

function dhcpOptions(b: Uint8Array): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (let i = 240; i < b.length && b[i] !== 255;) {
    if (b[i] === 0) { i++; continue; }
    m.set(b[i], b.subarray(i + 2, i + 2 + b[i + 1]));
    i += 2 + b[i + 1];
  }
  return m;
}

test('DHCP: DISCOVER gets an OFFER of 10.0.2.15, REQUEST an ACK with mask, router, DNS and lease; a wrong REQUEST a NAK', () => withNet(async (g) => {
  const broadcastFrom0 = (payload: Uint8Array): void => {
    g.ip = 0;
    g.sendIp(0xffffffff, 17, udpDatagram(0, 0xffffffff, 68, 67, payload));
  };
  const dhcpReply = (what: string) => g.nextUdp(what, (u) => u.srcPort === 67 && u.dstPort === 68);
  broadcastFrom0(dhcpMessage(1, 0xabcdef01, [55, 3, 1, 3, 6]));
  const offer = await dhcpReply('OFFER');
  assert.equal(read32(offer.data, 4), 0xabcdef01, 'xid');
  assert.equal(read32(offer.data, 16), GUEST_IP, 'yiaddr');
  let o = dhcpOptions(offer.data);
  assert.deepEqual([...o.get(53)!], [2], 'OFFER');
  assert.deepEqual([...o.get(1)!], [255, 255, 255, 0]);
  assert.deepEqual([...o.get(3)!], [10, 0, 2, 2]);
  assert.deepEqual([...o.get(6)!], [10, 0, 2, 3]);
  assert.deepEqual([...o.get(54)!], [10, 0, 2, 2]);
  assert.equal(read32(o.get(51)!, 0), 86400);
  broadcastFrom0(dhcpMessage(3, 0xabcdef02, [50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2]));
  const ack = await dhcpReply('ACK');
  o = dhcpOptions(ack.data);
  assert.deepEqual([...o.get(53)!], [5], 'ACK');
  assert.equal(read32(ack.data, 16), GUEST_IP);
  assert.equal(read32(o.get(51)!, 0), 86400);
  broadcastFrom0(dhcpMessage(3, 0xabcdef03, [50, 4, 10, 0, 2, 99]));
  const nak = await dhcpReply('NAK');
  assert.deepEqual([...dhcpOptions(nak.data).get(53)!], [6], 'NAK for an address that is not ours to give');
}));

test('ICMP: an echo request to the gateway (handcrafted) is answered with the same id, sequence and data', () => withNet(async (g) => {
  // Echo request id 0x4242 seq 7, data "ping"; checksum by hand: 0x0800+0x4242+0x0007+0x7069+0x6e67 = 0x12919, folded 0x291a, complemented 0xd6e5.
  const icmp = hex('08 00 d6e5 4242 0007 70696e67');
  g.sendIp(GATEWAY_IP, 1, icmp);
  const reply = await g.next('echo reply', (f) => { const ip = parseIpFrame(f); return ip && ip.protocol === 1 ? ip : undefined; });
  assert.equal(reply.src, GATEWAY_IP);
  assert.equal(reply.dst, GUEST_IP);
  assert.deepEqual([...reply.payload], [...hex('00 00 dee5 4242 0007 70696e67')]);
}));

test('ICMP: an echo to an outside address with outbound off is answered "administratively prohibited"', () => withNet(async (g, n) => {
  g.sendIp(ipv4('192.0.2.77'), 1, hex('08 00 d6e5 4242 0007 70696e67'));
  const u = await g.next('unreachable', (f) => { const ip = parseIpFrame(f); return ip && ip.protocol === 1 ? ip : undefined; });
  assert.equal(u.payload[0], 3);
  assert.equal(u.payload[1], 13);
  assert.equal(n.counters.dropped['icmp-unsupported'], 1);
}));

async function udpServer(onMessage: (msg: Buffer, reply: (b: Uint8Array) => void) => void): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, r) => onMessage(msg, (b) => s.send(b, r.port, r.address)));
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

test('UDP: a datagram to 10.0.2.2:P reaches a loopback echo server on 127.0.0.1:P and the reply comes back from 10.0.2.2:P', async () => {
  const server = await udpServer((msg, reply) => reply(Buffer.concat([Buffer.from('echo:'), msg])));
  const port = server.address().port;
  try {
    await withNet(async (g, n) => {
      g.sendUdp(GATEWAY_IP, 40000, port, new TextEncoder().encode('hello'));
      const r = await g.nextUdp('echo', (u) => u.dstPort === 40000);
      assert.equal(r.src, GATEWAY_IP);
      assert.equal(r.srcPort, port);
      assert.equal(new TextDecoder().decode(r.data), 'echo:hello');
      assert.equal(n.udpFlows, 1);
      // A second datagram of the same flow uses the same host socket.
      g.sendUdp(GATEWAY_IP, 40000, port, new TextEncoder().encode('again'));
      assert.equal(new TextDecoder().decode((await g.nextUdp('echo 2', (u) => u.dstPort === 40000)).data), 'echo:again');
      assert.equal(n.udpFlows, 1);
    });
  } finally {
    server.close();
  }
});

test('UDP: fragments (out of order, with an IP option) are reassembled; a large host reply is fragmented for the guest', async () => {
  const server = await udpServer((msg, reply) => reply(Buffer.concat([msg, msg])));
  const port = server.address().port;
  try {
    await withNet(async (g) => {
      const data = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
      const dgramBytes = udpDatagram(GUEST_IP, GATEWAY_IP, 40001, port, data);
      const nop4 = Uint8Array.of(1, 1, 1, 0); // NOP NOP NOP END
      const pieces = [[0, 1480], [1480, 2960], [2960, dgramBytes.length]];
      for (const [a, b] of [pieces[2], pieces[0], pieces[1]]) {
        const more = b < dgramBytes.length ? 0x2000 : 0;
        g.sendIp(GATEWAY_IP, 17, dgramBytes.subarray(a, b), { id: 0x5151, flagsOffset: more | (a / 8), options: nop4 });
      }
      // The 6000-byte reply arrives as fragments: reassemble them here.
      const frags: { off: number; data: Uint8Array; more: boolean }[] = [];
      while (!(frags.some((f) => !f.more) && frags.reduce((s, f) => s + f.data.length, 0) === 6008)) {
        const f = await g.next('reply fragment', (fr) => { const ip = parseIpFrame(fr); return ip && ip.protocol === 17 ? ip : undefined; });
        assert.ok(f.frame.length <= 1514, 'fragments fit the MTU');
        frags.push({ off: (f.flagsOffset & 0x1fff) * 8, data: f.payload, more: (f.flagsOffset & 0x2000) !== 0 });
      }
      const whole = new Uint8Array(6008);
      for (const f of frags) whole.set(f.data, f.off);
      assert.equal(read16(whole, 2), 40001);
      assert.deepEqual(whole.subarray(8), Uint8Array.from([...data, ...data]));
    });
  } finally {
    server.close();
  }
});

test('DNS: a query to 10.0.2.3:53 is relayed to the resolver and the answer comes back from 10.0.2.3:53; a malformed query is dropped', async () => {
  let queries = 0;
  const stub = await udpServer((msg, reply) => {
    queries++;
    const answer = Buffer.from(msg);
    answer[2] |= 0x80; // QR: a response
    reply(answer);
  });
  try {
    await withNet(async (g, n) => {
      const query = hex('beef 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001');
      g.sendUdp(DNS_IP, 33333, 53, query);
      const r = await g.nextUdp('DNS answer', (u) => u.dstPort === 33333);
      assert.equal(r.src, DNS_IP);
      assert.equal(r.srcPort, 53);
      assert.equal(read16(r.data, 0), 0xbeef);
      assert.equal(r.data[2] & 0x80, 0x80);
      g.sendUdp(DNS_IP, 33334, 53, hex('beef 0100 0001 0000 0000 0000 3f 6578')); // label runs off the end
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(n.counters.dropped['dns-malformed'], 1);
      assert.equal(queries, 1, 'the malformed query never reached the resolver');
    }, { resolver: { address: '127.0.0.1', port: stub.address().port } });
  } finally {
    stub.close();
  }
});

test('UDP: with outbound off, a datagram to an outside address is refused with ICMP unreachable', () => withNet(async (g, n) => {
  g.sendUdp(ipv4('198.51.100.1'), 40002, 9999, Uint8Array.of(1, 2, 3));
  const u = await g.next('unreachable', (f) => { const ip = parseIpFrame(f); return ip && ip.protocol === 1 ? ip : undefined; });
  assert.equal(u.payload[0], 3);
  assert.equal(n.counters.dropped['udp-refused'], 1);
  assert.equal(n.udpFlows, 0);
}));

test('hostfwd=udp: a host datagram reaches the guest port, the reply goes back to the host sender', async () => {
  const n = createUserNetwork({ hostForwards: [{ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 5353 }], outbound: false });
  try {
    const [bound] = await n.ready();
    const g = new GuestSide(n);
    const client = dgram.createSocket('udp4');
    client.unref();
    const got = new Promise<Buffer>((resolve) => client.once('message', resolve));
    client.send(Buffer.from('question'), bound.port, '127.0.0.1');
    const d = await g.nextUdp('forwarded datagram', (u) => u.dstPort === 5353);
    assert.equal(d.src, GATEWAY_IP);
    assert.equal(new TextDecoder().decode(d.data), 'question');
    // The stack does not know the guest MAC until it has heard from the guest, so it asked by ARP first.
    g.sendUdp(GATEWAY_IP, 5353, d.srcPort, new TextEncoder().encode('answer'));
    assert.equal((await got).toString(), 'answer');
    client.close();
  } finally {
    await n.close();
  }
});

test('options are checked: bad ports, addresses and duplicates are VmmErrors; a port in use rejects ready() with EBUSY', async () => {
  const bad = (f: object, code: string): void => assert.throws(
    () => createUserNetwork({ hostForwards: [f as never], outbound: false }), (e: unknown) => e instanceof VmmError && e.code === code);
  bad({ protocol: 'sctp', hostAddress: '127.0.0.1', hostPort: 1, guestPort: 1 }, 'EINVAL');
  bad({ protocol: 'tcp', hostAddress: 'localhost', hostPort: 1, guestPort: 1 }, 'EINVAL');
  bad({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 70000, guestPort: 1 }, 'EINVAL');
  bad({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 1, guestPort: 0 }, 'EINVAL');
  const first = createUserNetwork({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 22 }], outbound: false });
  const [b] = await first.ready();
  const second = createUserNetwork({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: b.port, guestPort: 22 }], outbound: false });
  await assert.rejects(second.ready(), (e: unknown) => e instanceof VmmError && e.code === 'EBUSY' && e.message.includes(String(b.port)));
  await second.close();
  await first.close();
});

test('close(): nothing the network started keeps the process alive afterwards (open TCP connection, UDP flow, listeners)', () => {
  const index = new URL('../../src/vmm/net/user/index.js', import.meta.url).href;
  const side = new URL('./guest-side.js', import.meta.url).href;
  const peer = new URL('./tcp-peer.js', import.meta.url).href;
  const script = `
    import { createUserNetwork } from ${JSON.stringify(index)};
    import { GuestSide } from ${JSON.stringify(side)};
    import { TcpPeer } from ${JSON.stringify(peer)};
    import * as net from 'node:net';
    const server = net.createServer((s) => { s.on('error', () => {}); s.write('hi'); });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const n = createUserNetwork({ hostForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 22 },
      { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 53 }], outbound: false });
    await n.ready();
    const g = new GuestSide(n);
    const p = new TcpPeer(g, ${GATEWAY_IP}, server.address().port, 40100);
    await p.connect();
    g.sendUdp(${GATEWAY_IP}, 40101, server.address().port, new Uint8Array(4));
    await n.close();
    server.close();
    console.log('closed', n.tcpStates().length);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, `the process had to be killed: something kept it alive (${r.stderr})`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'closed 0');
});
