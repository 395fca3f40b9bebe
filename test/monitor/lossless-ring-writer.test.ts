/**
 * vsock's ring writer: a full ring holds packets back in order instead of dropping them, retries
 * on its own once the reader made room, and says when packets landed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFrameRing, FrameRingReader, FrameRingWriter } from '../../src/vmm/core/frame-ring.js';
import { LosslessRingWriter } from '../../src/vmm/core/lossless-ring-writer.js';

const packet = (n: number): Uint8Array => new Uint8Array(4000).fill(n & 0xff);

test('packets beyond a full ring wait, in order, and all arrive once the reader drains', async () => {
  const b = createFrameRing(1 << 14); // 16 KiB: room for 4 of these packets
  const ring = new FrameRingWriter(b), reader = new FrameRingReader(b);
  let wakes = 0;
  const w = new LosslessRingWriter(ring, () => { wakes++; });
  for (let n = 0; n < 40; n++) w.write(packet(n));
  assert.equal(ring.dropped, 0, 'nothing refused-and-lost at the ring');
  assert.ok(w.waiting >= 36, `the rest waits (${w.waiting})`);
  const got: number[] = [];
  for (let round = 0; round < 200 && got.length < 40; round++) {
    reader.drain((f) => { got.push(f[0]!); return true; });
    await sleep(2);
  }
  assert.deepEqual(got, Array.from({ length: 40 }, (_, n) => n), 'every packet, in order');
  assert.equal(w.waiting, 0);
  assert.ok(wakes >= 2, 'the vCPU side was woken for the first write and for later ones');
  w.close();
});

test('a packet written while others wait queues behind them, and close() stops the retries', async () => {
  const b = createFrameRing(1 << 14);
  const ring = new FrameRingWriter(b), reader = new FrameRingReader(b);
  const w = new LosslessRingWriter(ring, () => {});
  for (let n = 0; n < 5; n++) w.write(packet(n));
  reader.drain(() => true); // room now, but packet 4 still waits for its retry
  w.write(packet(5));
  await sleep(5);
  const got: number[] = [];
  reader.drain((f) => { got.push(f[0]!); return true; });
  assert.deepEqual(got, [4, 5], 'the waiting packet first, then the new one');
  for (let n = 6; n < 20; n++) w.write(packet(n));
  w.close();
  assert.equal(w.waiting, 0);
  assert.throws(() => w.write(new Uint8Array(0)), /cannot cross the frame ring/);
});
