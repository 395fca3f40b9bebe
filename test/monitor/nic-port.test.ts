/**
 * The vCPU thread's receive path of a NIC: frames from the ring reach the guest's buffers with an
 * interrupt; while the guest gives no buffers they wait in the backlog, then in the ring (which
 * the main thread sees fill up); a NIC whose driver is not running drops what arrives; the idle
 * wait's wake-up condition says whether pumping would make progress.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFrameRing, FrameRingReader, FrameRingWriter } from '../../src/vmm/core/frame-ring.js';
import { NicPort } from '../../src/vmm/core/nic-port.js';
import { VIRTIO_NET_HDR_SIZE, VirtioNet } from '../../src/vmm/devices/virtio/net.js';
import { TestMachine } from '../virtio/guest-driver.js';

function setup(rxBacklog = 4): { m: TestMachine; net: VirtioNet; port: NicPort; host: FrameRingWriter } {
  const net = new VirtioNet({ mac: Uint8Array.from([2, 0, 0, 0, 0, 1]), transmit: () => {}, rxBacklog });
  const m = new TestMachine(net);
  const ring = createFrameRing(4096);
  return { m, net, port: new NicPort(net, m.dev.core, new FrameRingReader(ring)), host: new FrameRingWriter(ring) };
}

const frame = (n: number, tag: number): Uint8Array => new Uint8Array(n).fill(tag);

test('frames from the ring land in the guest buffers with an interrupt', () => {
  const { m, port, host } = setup();
  const [rx] = m.init({ useMsix: true });
  const buf = m.ram.alloc(1526);
  rx!.add([{ gpa: buf, len: 1526, write: true }]);
  m.kick(rx!);
  assert.equal(port.hostFramesReady, false);
  host.write(frame(64, 7));
  assert.equal(port.hostFramesReady, true);
  const irqs = m.sink.messages.length;
  port.pump();
  assert.deepEqual(rx!.takeUsed(), [{ id: 0, len: VIRTIO_NET_HDR_SIZE + 64 }]);
  assert.equal(m.sink.messages.length, irqs + 1);
  assert.equal(m.ram.bytes[buf + VIRTIO_NET_HDR_SIZE], 7);
  assert.equal(port.hostFramesReady, false);
});

test('without buffers, frames fill the backlog, then stay in the ring; buffers later take them in order', () => {
  const { m, net, port, host } = setup(2);
  const [rx] = m.init({ useMsix: true });
  for (let i = 1; i <= 5; i++) assert.ok(host.write(frame(100, i)));
  port.pump();
  assert.equal(net.pendingFrames, 2);
  assert.equal(port.hostFramesReady, false, 'a full backlog does not wake an idle guest (it would spin)');
  assert.equal(host.used, 3 * 104, 'three frames still in the ring');
  const bufs = [0, 1, 2, 3, 4].map(() => m.ram.alloc(1526));
  for (const b of bufs) rx!.add([{ gpa: b, len: 1526, write: true }]);
  m.kick(rx!);
  assert.equal(rx!.takeUsed().length, 2, 'the guest notify delivers the backlog');
  port.pump();
  port.pump();
  assert.equal(rx!.takeUsed().length, 3);
  assert.deepEqual(bufs.map((b) => m.ram.bytes[b + VIRTIO_NET_HDR_SIZE]), [1, 2, 3, 4, 5]);
  assert.equal(net.stats.rxBacklogFull, 0, 'nothing was dropped');
});

test('a NIC whose driver is not running drops what arrives, and counts it', () => {
  const { net, port, host } = setup();
  host.write(frame(60, 1));
  host.write(frame(60, 2));
  assert.equal(port.hostFramesReady, true);
  port.pump();
  assert.equal(port.droppedWhileDown, 2);
  assert.equal(net.pendingFrames, 0);
  assert.equal(port.hostFramesReady, false);
});
