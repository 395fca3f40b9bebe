/**
 * virtio-net through the PCI transport with a hand-built driver: identity, features and
 * configuration, frames both ways with the 12-byte header, receive buffers left alone while there
 * is nothing to receive, the bounded backlog, and guest mistakes dropped and counted (or, for a
 * receive chain with readable buffers, DEVICE_NEEDS_RESET). A seeded fuzz of both queues last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayGuestMemory } from '../../src/vmm/bus/guest-memory.js';
import {
  MAX_FRAME_BYTES, NET_QUEUE, VIRTIO_NET_F, VIRTIO_NET_HDR_SIZE, VirtioNet,
} from '../../src/vmm/devices/virtio/net.js';
import { VirtioCore } from '../../src/vmm/devices/virtio/virtio-core.js';
import { Rng, testSeed } from '../exec/rng.js';
import { STATUS, TestMachine } from './guest-driver.js';

const MAC = Uint8Array.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

function frame(length: number, seed = 1): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

function setup(rxBacklog?: number): { m: TestMachine; net: VirtioNet; sent: Uint8Array[]; rx: ReturnType<TestMachine['init']>[number]; tx: ReturnType<TestMachine['init']>[number] } {
  const sent: Uint8Array[] = [];
  const net = new VirtioNet({ mac: MAC, transmit: (f) => sent.push(f), rxBacklog });
  const m = new TestMachine(net);
  const [rx, tx] = m.init({ useMsix: true });
  return { m, net, sent, rx: rx!, tx: tx! };
}

test('virtio-net identifies as PCI 1af4:1041, class 0x0200, with MAC and link-up status, two queues', () => {
  const { m } = setup();
  assert.equal(m.cfg.read(m.slot, 0, 0, 4), 0x10411af4);
  assert.equal(m.cfg.read(m.slot, 0, 8, 4) >>> 8, 0x020000);
  m.setCommon(0x00, 4, 0);
  const features = m.common(0x04, 4);
  assert.ok(features & (1 << VIRTIO_NET_F.MAC));
  assert.ok(features & (1 << VIRTIO_NET_F.STATUS));
  assert.equal(features & 1, 0, 'no checksum offload offered');
  assert.equal(m.common(0x12, 2), 2);
  const mac = [0, 1, 2, 3, 4, 5].map((i) => m.mmioRead(m.caps!.device + i, 1));
  assert.deepEqual(mac, [...MAC]);
  assert.equal(m.mmioRead(m.caps!.device + 6, 2), 1, 'VIRTIO_NET_S_LINK_UP');
});

test('a transmitted frame (header and frame in separate descriptors) reaches transmit without its header', () => {
  const { m, net, sent, tx } = setup();
  const hdr = m.ram.alloc(VIRTIO_NET_HDR_SIZE), data = m.ram.alloc(100);
  m.ram.bytes.set(frame(100), data);
  tx.add([{ gpa: hdr, len: VIRTIO_NET_HDR_SIZE }, { gpa: data, len: 60 }, { gpa: data + 60, len: 40 }]);
  const before = m.sink.messages.length;
  m.kick(tx);
  assert.deepEqual(tx.takeUsed(), [{ id: 0, len: 0 }]);
  assert.equal(sent.length, 1);
  assert.deepEqual([...sent[0]!], [...frame(100)]);
  assert.equal(m.sink.messages.length, before + 1, 'one MSI-X message for the used buffer');
  assert.equal(net.stats.txFrames, 1);
  assert.equal(net.stats.txBytes, 100);
});

test('transmit buffers with no frame, or asking for an offload, are dropped and counted; the device carries on', () => {
  const { m, net, sent, tx } = setup();
  const cases: [string, Uint8Array][] = [
    ['header only', new Uint8Array(VIRTIO_NET_HDR_SIZE)],
    ['13-byte frame', new Uint8Array(VIRTIO_NET_HDR_SIZE + 13)],
    ['too long', new Uint8Array(VIRTIO_NET_HDR_SIZE + MAX_FRAME_BYTES + 1)],
    ['NEEDS_CSUM', Uint8Array.from([1, ...new Uint8Array(VIRTIO_NET_HDR_SIZE - 1 + 60)])],
    ['GSO TCPv4', Uint8Array.from([0, 1, ...new Uint8Array(VIRTIO_NET_HDR_SIZE - 2 + 60)])],
    ['short header', new Uint8Array(5)],
  ];
  for (const [, bytes] of cases) {
    const at = m.ram.alloc(bytes.length);
    m.ram.bytes.set(bytes, at);
    tx.add([{ gpa: at, len: bytes.length }]);
  }
  m.kick(tx);
  assert.equal(tx.takeUsed().length, cases.length, 'every buffer goes back to the driver');
  assert.equal(sent.length, 0);
  assert.equal(net.stats.txDropped, cases.length);
  assert.equal(m.status() & STATUS.NEEDS_RESET, 0);
  const ok = m.ram.alloc(VIRTIO_NET_HDR_SIZE + 60);
  tx.add([{ gpa: ok, len: VIRTIO_NET_HDR_SIZE + 60 }]);
  m.kick(tx);
  assert.equal(sent.length, 1, 'a good frame after the bad ones still goes out');
});

test('received frames wait for buffers; buffers wait for frames; delivery writes the header with num_buffers 1', () => {
  const { m, net, rx } = setup();
  const bufs = [0, 1, 2].map(() => m.ram.alloc(1526));
  // Buffers but nothing to receive: the device leaves them in the queue.
  rx.add([{ gpa: bufs[0]!, len: 1526, write: true }]);
  m.kick(rx);
  assert.deepEqual(rx.takeUsed(), []);
  assert.equal(m.dev.core.queues[0]!.lastAvail, 0, 'the buffer was not taken');
  // A frame arrives: the monitor runs the queue, the buffer fills.
  assert.ok(net.receive(frame(60, 3)));
  const irqs = m.sink.messages.length;
  m.dev.core.notify(NET_QUEUE.RX);
  assert.deepEqual(rx.takeUsed(), [{ id: 0, len: VIRTIO_NET_HDR_SIZE + 60 }]);
  assert.equal(m.sink.messages.length, irqs + 1);
  const hdr = [...m.ram.bytes.subarray(bufs[0]!, bufs[0]! + VIRTIO_NET_HDR_SIZE)];
  assert.deepEqual(hdr, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual([...m.ram.bytes.subarray(bufs[0]! + VIRTIO_NET_HDR_SIZE, bufs[0]! + VIRTIO_NET_HDR_SIZE + 60)], [...frame(60, 3)]);
  // Frames before buffers: they wait in the backlog until the driver adds some and notifies.
  assert.ok(net.receive(frame(1514, 4)));
  assert.ok(net.receive(frame(100, 5)));
  m.dev.core.notify(NET_QUEUE.RX);
  assert.equal(net.pendingFrames, 2);
  // A buffer split in three descriptors (header apart from the data, as some drivers do).
  rx.add([{ gpa: bufs[1]!, len: VIRTIO_NET_HDR_SIZE, write: true }, { gpa: bufs[1]! + 12, len: 1000, write: true }, { gpa: bufs[1]! + 1012, len: 514, write: true }]);
  rx.add([{ gpa: bufs[2]!, len: 1526, write: true }]);
  m.kick(rx);
  assert.deepEqual(rx.takeUsed().map((u) => u.len), [VIRTIO_NET_HDR_SIZE + 1514, VIRTIO_NET_HDR_SIZE + 100]);
  assert.deepEqual([...m.ram.bytes.subarray(bufs[1]! + 12, bufs[1]! + 12 + 1514)], [...frame(1514, 4)]);
  assert.equal(net.pendingFrames, 0);
  assert.equal(net.stats.rxFrames, 3);
});

test('the receive backlog is bounded; oversized frames and too-small buffers drop and count', () => {
  const { m, net, rx } = setup(2);
  assert.ok(net.receive(frame(60)));
  assert.ok(net.receive(frame(1000)));
  assert.equal(net.receive(frame(60)), false);
  assert.equal(net.stats.rxBacklogFull, 1);
  assert.equal(net.receive(frame(MAX_FRAME_BYTES + 1)), false);
  assert.equal(net.stats.rxOversize, 1);
  const small = m.ram.alloc(200), big = m.ram.alloc(1526);
  rx.add([{ gpa: small, len: 200, write: true }]);
  rx.add([{ gpa: big, len: 1526, write: true }]);
  m.kick(rx);
  // One buffer per frame, in order: the 60-byte frame in the small one, the 1000-byte one in the big one.
  assert.deepEqual(rx.takeUsed().map((u) => u.len), [VIRTIO_NET_HDR_SIZE + 60, VIRTIO_NET_HDR_SIZE + 1000]);
  net.receive(frame(1000));
  const small2 = m.ram.alloc(200);
  rx.add([{ gpa: small2, len: 200, write: true }]);
  m.kick(rx);
  assert.deepEqual(rx.takeUsed(), [{ id: 2, len: 0 }], 'too small: the buffer comes back empty');
  assert.equal(net.stats.rxBufferTooSmall, 1);
  assert.equal(m.status() & STATUS.NEEDS_RESET, 0);
});

test('a receive chain with device-readable buffers puts the device in NEEDS_RESET; reset empties the backlog', () => {
  const { m, net, rx } = setup();
  net.receive(frame(60));
  const at = m.ram.alloc(1526);
  rx.add([{ gpa: at, len: 1526 }]);
  m.kick(rx);
  assert.ok(m.status() & STATUS.NEEDS_RESET);
  assert.match(m.dev.core.lastError, /device-readable/);
  assert.equal(net.pendingFrames, 1, 'the frame was not consumed by the broken chain');
  m.setCommon(0x14, 1, 0);
  assert.equal(net.pendingFrames, 0);
});

test('seeded fuzz: random chains on both queues never throw, work stays bounded, frames stay whole', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const RAM = 0x40000;
  const bytes = new Uint8Array(RAM);
  const dv = new DataView(bytes.buffer);
  const sent: Uint8Array[] = [];
  const net = new VirtioNet({ mac: MAC, transmit: (f) => sent.push(f), rxBacklog: 8 });
  const core = new VirtioCore(net, new ArrayGuestMemory(bytes), { queue: () => {}, config: () => {}, reset: () => {} });
  const bases = [{ desc: 0x1000, avail: 0x2000, used: 0x3000 }, { desc: 0x5000, avail: 0x6000, used: 0x7000 }];
  const start = (): void => {
    core.writeStatus(0);
    core.queues.forEach((q, i) => { q.size = 16; q.descAddr = bases[i]!.desc; q.driverAddr = bases[i]!.avail; q.deviceAddr = bases[i]!.used; });
    core.driverFeatures = (1n << 32n) | (rng.int(2) ? 1n << 28n : 0n) | (rng.int(2) ? 1n << 29n : 0n);
    core.writeStatus(1 | 2 | 8);
    core.queues.forEach((q) => core.enableQueue(q));
    core.writeStatus(1 | 2 | 8 | 4);
  };
  start();
  let resets = 0;
  try {
    for (let round = 0; round < 2000; round++) {
      const qi = rng.int(2), q = core.queues[qi]!, b = bases[qi]!;
      const ahead = rng.int(5);
      for (let k = 0; k < ahead; k++) {
        const head = rng.int(16), count = 1 + rng.int(3);
        for (let j = 0; j < count; j++) {
          const at = b.desc + 16 * ((head + j) % 16);
          const len = rng.pick([0, 5, 12, 13, 26, 74, 200, 1526, 2000, rng.int(0x10000)]);
          dv.setBigUint64(at, BigInt(rng.int(8) === 0 ? rng.int(2 ** 31) : 0x10000 + rng.int(0x2f000)), true);
          dv.setUint32(at + 8, len, true);
          dv.setUint16(at + 12, (j + 1 < count ? 1 : 0) | (qi === 0 ? (rng.int(8) ? 2 : 0) : (rng.int(8) ? 0 : 2)) | (rng.int(20) ? 0 : 4), true);
          dv.setUint16(at + 14, (head + j + 1) % 16, true);
        }
        dv.setUint16(b.avail + 4 + 2 * ((q.lastAvail + k) % 16), head, true);
        if (qi === 1) bytes.fill(rng.int(4) ? 0 : rng.int(256), 0x10000 + rng.int(0x2f000), 0x10000 + rng.int(0x2f000));
      }
      dv.setUint16(b.avail + 2, (q.lastAvail + ahead) & 0xffff, true);
      if (rng.int(3) === 0) net.receive(frame(rng.int(MAX_FRAME_BYTES + 20), round));
      const served = core.served;
      core.notify(qi);
      assert.ok(core.served - served <= 16, `seed ${seed}: ${core.served - served} chains in one notify`);
      if (core.status & 0x40) {
        assert.ok(core.lastError.length > 0);
        resets++;
        start();
      }
    }
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.fail(`seed ${seed}: ${String(e)}`);
  }
  for (const f of sent) assert.ok(f.length >= 14 && f.length <= MAX_FRAME_BYTES, `seed ${seed}: a ${f.length}-byte frame went out`);
  console.log(`# virtio-net fuzz (seed ${seed}): ${sent.length} sent, ${net.stats.txDropped} tx dropped, ${net.stats.rxFrames} received, ${resets} resets`);
  assert.ok(sent.length > 0 && net.stats.txDropped > 0 && net.stats.rxFrames > 0 && resets > 0, `seed ${seed}: the fuzz did not reach every outcome`);
});
