/**
 * Seeded fuzzing of every input parser of the user network (Ethernet, ARP, IPv4 with options and
 * fragments, ICMP, UDP, DHCP, DNS, TCP with options): valid frames of each kind, mutated (bit flips,
 * edge bytes, truncation, extension, random runs) and half of them with their checksums repaired so
 * the mutation reaches the layer behind the checksum, plus wholly random frames. send() must never
 * throw, nothing may count as an internal error, every frame the stack sends must be well-formed,
 * and afterwards the stack must still answer (no stall). The seed is printed on failure
 * (TSVISOR_SEED=... reruns it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { Rng, testSeed } from '../exec/rng.js';
import { createUserNetwork } from '../../src/vmm/net/user/index.js';
import { DNS_IP, GATEWAY_IP, GUEST_IP, STACK_MAC, BROADCAST_MAC } from '../../src/vmm/net/user/addresses.js';
import { internetChecksum, transportChecksum } from '../../src/vmm/net/user/checksum.js';
import { read16, write16 } from '../../src/vmm/net/user/bytes.js';
import { GUEST_MAC, GuestSide, TCP, ethernet, ipv4Packet, parseIpFrame, tcpSegment, udpDatagram } from './guest-side.js';
import { TcpPeer } from './tcp-peer.js';

const FRAMES = 40_000;

function corpus(udpPort: number, tcpPort: number): Uint8Array[] {
  const ip = (dst: number, proto: number, payload: Uint8Array, opts: Parameters<typeof ipv4Packet>[4] = {}): Uint8Array =>
    ethernet(STACK_MAC, GUEST_MAC, 0x0800, ipv4Packet(GUEST_IP, dst, proto, payload, opts));
  const arp = Uint8Array.of(0, 1, 8, 0, 6, 4, 0, 1, ...GUEST_MAC, 10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 10, 0, 2, 2);
  const dhcp = new Uint8Array(300);
  dhcp.set([1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78]);
  dhcp.set(GUEST_MAC, 28);
  dhcp.set([0x63, 0x82, 0x53, 0x63, 53, 1, 1, 55, 4, 1, 3, 6, 15, 61, 7, 1, ...GUEST_MAC, 50, 4, 10, 0, 2, 15, 255], 236);
  const dhcpFrame = ethernet(BROADCAST_MAC, GUEST_MAC, 0x0800, ipv4Packet(0, 0xffffffff, 17, udpDatagram(0, 0xffffffff, 68, 67, dhcp)));
  const dns = Uint8Array.of(0xbe, 0xef, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x77, 0x77, 7, ...Buffer.from('example'), 3, 0x63, 0x6f, 0x6d, 0, 0, 1, 0, 1,
    1, 0x61, 0, 0, 28, 0, 1);
  const synOpts = Uint8Array.of(2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7);
  const syn = tcpSegment(GUEST_IP, GATEWAY_IP, { srcPort: 40000, dstPort: tcpPort, seq: 1, ack: 0, flags: TCP.SYN, window: 64240, options: synOpts });
  const data = tcpSegment(GUEST_IP, GATEWAY_IP, { srcPort: 40001, dstPort: tcpPort, seq: 5, ack: 9, flags: TCP.ACK | TCP.PSH, window: 500, data: Buffer.from('payload') });
  const echo = Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4);
  write16(echo, 2, internetChecksum(echo));
  const big = udpDatagram(GUEST_IP, GATEWAY_IP, 40002, udpPort, new Uint8Array(2000).fill(7));
  const recordRoute = Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 1);
  return [
    ethernet(BROADCAST_MAC, GUEST_MAC, 0x0806, arp),
    dhcpFrame,
    ip(GATEWAY_IP, 1, echo),
    ip(GATEWAY_IP, 17, udpDatagram(GUEST_IP, GATEWAY_IP, 40003, udpPort, Buffer.from('datagram'))),
    ip(DNS_IP, 17, udpDatagram(GUEST_IP, DNS_IP, 40004, 53, dns)),
    ip(GATEWAY_IP, 6, syn),
    ip(GATEWAY_IP, 6, data),
    ip(GATEWAY_IP, 17, udpDatagram(GUEST_IP, GATEWAY_IP, 40005, udpPort, Buffer.from('with options')), { options: recordRoute }),
    ip(GATEWAY_IP, 17, big.subarray(0, 1480), { id: 77, flagsOffset: 0x2000 }),
    ip(GATEWAY_IP, 17, big.subarray(1480), { id: 77, flagsOffset: 1480 / 8 }),
  ];
}

const EDGE_BYTES = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

function mutate(rng: Rng, frame: Uint8Array): Uint8Array {
  let f = frame.slice();
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds && f.length > 0; r++) {
    switch (rng.int(6)) {
      case 0: f[rng.int(f.length)] ^= 1 << rng.int(8); break;
      case 1: f[rng.int(f.length)] = rng.pick(EDGE_BYTES); break;
      case 2: f = f.subarray(0, rng.int(f.length + 1)).slice(); break;
      case 3: { const g = new Uint8Array(f.length + 1 + rng.int(64)); g.set(f); for (let i = f.length; i < g.length; i++) g[i] = rng.int(256); f = g; break; }
      case 4: { const at = rng.int(f.length); const n = 1 + rng.int(8); for (let i = at; i < Math.min(f.length, at + n); i++) f[i] = rng.int(256); break; }
      default: { const at = 14 + rng.int(Math.max(1, f.length - 14)); if (at + 1 < f.length) write16(f, at, rng.pick([0, 0xffff, 0x8000, 0x7fff, f.length, f.length - 14])); }
    }
  }
  return f;
}

/**
 * Makes the IPv4 header checksum and the UDP/TCP/ICMP checksum right again (where the lengths allow
 * it), and keeps host-bound ports on the test's own sinks so the fuzz never talks to other services.
 */
function repair(f: Uint8Array, udpPort: number, tcpPort: number): void {
  if (f.length < 34 || read16(f, 12) !== 0x0800) return;
  const ihl = (f[14] & 0xf) * 4;
  if (ihl < 20 || 14 + ihl > f.length) return;
  const total = Math.min(read16(f, 16), f.length - 14);
  const src = ((f[26] << 24) | (f[27] << 16) | (f[28] << 8) | f[29]) >>> 0;
  const dst = ((f[30] << 24) | (f[31] << 16) | (f[32] << 8) | f[33]) >>> 0;
  const l4 = f.subarray(14 + ihl, 14 + Math.max(ihl, total));
  const first = (read16(f, 20) & 0x1fff) === 0;
  if (first && f[23] === 17 && l4.length >= 8) {
    const port = read16(l4, 2);
    if (port !== 67 && port !== 53) write16(l4, 2, udpPort);
    write16(l4, 6, 0);
    if (read16(l4, 4) === l4.length) write16(l4, 6, transportChecksum(src, dst, 17, l4) || 0xffff);
  } else if (first && f[23] === 6 && l4.length >= 20) {
    write16(l4, 2, tcpPort);
    write16(l4, 16, 0);
    write16(l4, 16, transportChecksum(src, dst, 6, l4));
  } else if (first && f[23] === 1 && l4.length >= 4) {
    write16(l4, 2, 0);
    write16(l4, 2, internetChecksum(l4));
  }
  write16(f, 24, 0);
  write16(f, 24, internetChecksum(f, 14, 14 + ihl));
}

test('fuzz: mutated and random frames are dropped and counted, never thrown, and the stack keeps answering', async () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const tcpSink = net.createServer((s) => { s.on('error', () => undefined); s.resume(); });
  await new Promise<void>((resolve) => tcpSink.listen(0, '127.0.0.1', resolve));
  const udpSink = dgram.createSocket('udp4');
  udpSink.on('message', (m, r) => udpSink.send(m, r.port, r.address));
  await new Promise<void>((resolve) => udpSink.bind(0, '127.0.0.1', resolve));
  const tcpPort = (tcpSink.address() as net.AddressInfo).port;
  const udpPort = udpSink.address().port;
  const n = createUserNetwork({ hostForwards: [], outbound: false }, {
    resolver: { address: '127.0.0.1', port: udpPort }, maxTcpConnections: 64, maxUdpFlows: 32,
  });
  const g = new GuestSide(n);
  try {
    const base = corpus(udpPort, tcpPort);
    for (let i = 0; i < FRAMES; i++) {
      let frame: Uint8Array;
      const kind = rng.int(10);
      if (kind === 0) frame = Uint8Array.from({ length: rng.int(1600) }, () => rng.int(256));
      else {
        frame = kind === 1 ? rng.pick(base).slice() : mutate(rng, rng.pick(base));
        if (rng.int(2) === 0) repair(frame, udpPort, tcpPort);
      }
      try {
        n.send(frame);
      } catch (e) {
        assert.fail(`seed ${seed}: send() threw on frame ${i} (${Buffer.from(frame).toString('hex')}): ${(e as Error).message}`);
      }
      // Let replies and host sockets progress now and then, as a running guest would.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const c = n.counters;
    if (process.env.TSVISOR_NET_FUZZ_VERBOSE) console.log(JSON.stringify(c.dropped), c.framesToGuest);
    assert.equal(c.dropped['internal-error'], 0, `seed ${seed}: internal errors`);
    assert.equal(c.framesFromGuest, FRAMES, `seed ${seed}`);
    assert.ok(c.totalDropped() > FRAMES / 4, `seed ${seed}: most malformed frames are counted (${c.totalDropped()})`);
    for (const reason of ['ethernet-short', 'ipv4-checksum', 'udp-checksum', 'tcp-checksum', 'ipv4-malformed'] as const) {
      assert.ok(c.dropped[reason] > 0, `seed ${seed}: some frames dropped as ${reason}`);
    }
    // Everything the stack sent is well-formed (parseIpFrame checks the header checksum and throws otherwise).
    for (const f of g.frames) {
      assert.ok(f.length >= 14 && f.length <= 1514, `seed ${seed}: frame of ${f.length} bytes`);
      if (read16(f, 12) === 0x0800) assert.ok(parseIpFrame(f), `seed ${seed}`);
    }
    // Still alive: ARP, UDP and a TCP handshake work after the storm.
    g.skipAll();
    g.sendUdp(GATEWAY_IP, 45000, udpPort, Buffer.from('still there?'));
    const r = await g.nextUdp('UDP echo after fuzz', (u) => u.dstPort === 45000);
    assert.equal(Buffer.from(r.data).toString(), 'still there?', `seed ${seed}`);
    const peer = new TcpPeer(g, GATEWAY_IP, tcpPort, 45001);
    await peer.connect();
  } catch (e) {
    console.log(`# fuzz seed ${seed} (rerun with TSVISOR_SEED=${seed})`);
    throw e;
  } finally {
    await n.close();
    tcpSink.close();
    udpSink.close();
  }
});

test('fuzz: fragment and connection tables stay bounded under floods', async () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const n = createUserNetwork({ hostForwards: [], outbound: false }, { maxFragmentedDatagrams: 8, maxTcpConnections: 16 });
  const g = new GuestSide(n);
  const tcpSink = net.createServer((s) => { s.on('error', () => undefined); });
  await new Promise<void>((resolve) => tcpSink.listen(0, '127.0.0.1', resolve));
  const tcpPort = (tcpSink.address() as net.AddressInfo).port;
  try {
    // First fragments of 1000 different datagrams: only 8 are held at once.
    for (let id = 0; id < 1000; id++) {
      g.sendIp(GATEWAY_IP, 17, new Uint8Array(8 * (1 + rng.int(100))), { id, flagsOffset: 0x2000 | rng.int(64) });
    }
    assert.equal(n.counters.dropped['fragment-table-full'], 1000 - 8, `seed ${seed}`);
    // 200 SYNs from different ports: 16 connections at most, the rest refused with RST.
    for (let p = 0; p < 200; p++) g.sendTcp(GATEWAY_IP, { srcPort: 20000 + p, dstPort: tcpPort, seq: rng.int(2 ** 32), ack: 0, flags: TCP.SYN, window: 1000 });
    assert.ok(n.tcpStates().length <= 16);
    assert.equal(n.counters.dropped['tcp-table-full'], 200 - 16, `seed ${seed}`);
  } catch (e) {
    console.log(`# fuzz seed ${seed} (rerun with TSVISOR_SEED=${seed})`);
    throw e;
  } finally {
    await n.close();
    tcpSink.close();
  }
});
