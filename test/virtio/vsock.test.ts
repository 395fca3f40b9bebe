/** virtio-vsock's device half: identity and CID, packets checked and carried both ways, the event queue left alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioVsock, VSOCK_QUEUE } from '../../src/vmm/devices/virtio/vsock.js';
import { VSOCK_OP, decodeVsockHeader, encodeVsockPacket, type VsockHeader } from '../../src/vmm/devices/virtio/vsock-packet.js';
import { STATUS, TestMachine } from './guest-driver.js';

const CID = 3;
const pkt = (over: Partial<Parameters<typeof encodeVsockPacket>[0]> = {}, payload?: Uint8Array): Uint8Array =>
  encodeVsockPacket({ srcCid: CID, dstCid: 2, srcPort: 1000, dstPort: 5000, type: 1, op: VSOCK_OP.RW, flags: 0, bufAlloc: 4096, fwdCnt: 0, ...over }, payload);

test('virtio-vsock is PCI 1af4:1053 with the guest CID in its configuration and three queues', () => {
  const m = new TestMachine(new VirtioVsock({ guestCid: 0x12345678, transmit: () => {} }));
  m.init();
  assert.equal(m.cfg.read(m.slot, 0, 0, 4), 0x10531af4);
  assert.equal(m.mmioRead(m.caps!.device, 4), 0x12345678);
  assert.equal(m.mmioRead(m.caps!.device + 4, 4), 0);
  assert.equal(m.common(0x12, 2), 3);
  assert.throws(() => new VirtioVsock({ guestCid: 2, transmit: () => {} }), /guest CID must be 3\.\.4294967294, got 2/);
});

test('guest packets go to transmit; malformed or misaddressed ones are dropped and counted', () => {
  const sent: Uint8Array[] = [];
  const dev = new VirtioVsock({ guestCid: CID, transmit: (p) => sent.push(p) });
  const m = new TestMachine(dev);
  const [, tx] = m.init({ useMsix: true });
  const good = pkt({}, Buffer.from('hello'));
  const bad = [
    new Uint8Array(20),
    pkt({ srcCid: 9 }),
    pkt({ dstCid: 7 }),
    pkt({ type: 2 }),
    (() => { const p = pkt({}, Buffer.from('abc')); p[24] = 9; return p; })(),
  ];
  for (const p of [good, ...bad]) {
    const at = m.ram.alloc(p.length);
    m.ram.bytes.set(p, at);
    // Header and payload in separate descriptors, as Linux queues them.
    tx!.add(p.length > 44 ? [{ gpa: at, len: 44 }, { gpa: at + 44, len: p.length - 44 }] : [{ gpa: at, len: p.length }]);
  }
  m.kick(tx!);
  assert.equal(tx!.takeUsed().length, 6);
  assert.deepEqual(sent, [good]);
  assert.equal(dev.stats.txDropped, 5);
  assert.equal(m.status() & STATUS.NEEDS_RESET, 0);
});

test('host packets wait for receive buffers; the event queue keeps its buffers', () => {
  let resets = 0;
  const dev = new VirtioVsock({ guestCid: CID, transmit: () => {}, onReset: () => { resets++; } });
  const m = new TestMachine(dev);
  const [rx, , ev] = m.init({ useMsix: true });
  const e = m.ram.alloc(8);
  ev!.add([{ gpa: e, len: 8, write: true }]);
  m.kick(ev!);
  assert.deepEqual(ev!.takeUsed(), []);
  const p = pkt({ srcCid: 2, dstCid: CID }, Buffer.from('data'));
  assert.ok(dev.receive(p));
  m.dev.core.notify(VSOCK_QUEUE.RX);
  assert.deepEqual(rx!.takeUsed(), []);
  const hdr = m.ram.alloc(44), buf = m.ram.alloc(4096);
  rx!.add([{ gpa: hdr, len: 44, write: true }, { gpa: buf, len: 4096, write: true }]);
  m.kick(rx!);
  assert.deepEqual(rx!.takeUsed(), [{ id: 0, len: p.length }]);
  assert.equal(Buffer.from(m.ram.bytes.subarray(buf, buf + 4)).toString(), 'data');
  const before = resets;
  m.setCommon(0x14, 1, 0);
  assert.equal(resets, before + 1, 'a driver reset tells the host side');
});

test('a data packet longer than the receive buffer is split across buffers (Linux 6.1.0-57 gives 3776-byte ones); a header that does not fit is dropped', () => {
  const dev = new VirtioVsock({ guestCid: CID, transmit: () => {} });
  const m = new TestMachine(dev);
  const [rx] = m.init({ useMsix: true });
  const BUF = 3776;
  const payload = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff);
  const data = pkt({ srcCid: 2, dstCid: CID, fwdCnt: 1234 }, payload);
  assert.ok(dev.receive(data));
  assert.ok(dev.receive(pkt({ srcCid: 2, dstCid: CID, op: VSOCK_OP.CREDIT_UPDATE })));
  const bufs = [0, 1, 2].map(() => m.ram.alloc(BUF));
  for (const b of bufs) rx!.add([{ gpa: b, len: BUF, write: true }]);
  m.kick(rx!);
  assert.deepEqual(rx!.takeUsed(), [{ id: 0, len: BUF }, { id: 1, len: 44 + 4096 - (BUF - 44) }, { id: 2, len: 44 }]);
  const got = bufs.map((b, i) => decodeVsockHeader(m.ram.bytes.slice(b, b + [BUF, 44 + 4096 - (BUF - 44), 44][i]!)));
  for (const h of got) assert.notEqual(typeof h, 'string', String(h));
  const [h0, h1, h2] = got as VsockHeader[];
  assert.deepEqual([h0!.op, h0!.len, h0!.fwdCnt, h0!.srcPort, h0!.dstPort], [VSOCK_OP.RW, BUF - 44, 1234, 1000, 5000]);
  assert.deepEqual([h1!.op, h1!.len, h1!.fwdCnt], [VSOCK_OP.RW, 4096 - (BUF - 44), 1234]);
  assert.equal(h2!.op, VSOCK_OP.CREDIT_UPDATE);
  const joined = Buffer.concat([m.ram.bytes.subarray(bufs[0]! + 44, bufs[0]! + BUF), m.ram.bytes.subarray(bufs[1]! + 44, bufs[1]! + 44 + h1!.len)]);
  assert.ok(joined.equals(payload), 'the payload arrives whole and in order');
  assert.deepEqual([dev.stats.rxPackets, dev.stats.rxSplits, dev.stats.rxBufferTooSmall], [3, 1, 0]);

  assert.ok(dev.receive(pkt({ srcCid: 2, dstCid: CID, op: VSOCK_OP.RESPONSE })));
  const tiny = m.ram.alloc(40);
  rx!.add([{ gpa: tiny, len: 40, write: true }]);
  m.kick(rx!);
  assert.deepEqual(rx!.takeUsed(), [{ id: 3, len: 0 }]);
  assert.equal(dev.stats.rxBufferTooSmall, 1);
  assert.equal(dev.pendingFrames, 0);
});
