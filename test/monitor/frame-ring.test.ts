/**
 * The shared-memory frame ring between the main thread and the vCPU thread: frames come out whole
 * and in order across the ring's end and across the 32-bit wrap of its counters, a full ring
 * refuses (and counts) instead of overwriting, a refused frame stays for the next drain, and a
 * writer in another thread is read correctly while both run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createFrameRing, FrameRingReader, FrameRingWriter, MAX_RING_FRAME_BYTES } from '../../src/vmm/core/frame-ring.js';
import { Rng, testSeed } from '../exec/rng.js';

function frame(length: number, tag: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 31 + tag * 7 + (i >> 8)) & 0xff;
  return f;
}

function drainAll(r: FrameRingReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  r.drain((f) => { out.push(f); return true; });
  return out;
}

test('frames of 60..65550 bytes come out whole and in order as the ring wraps many times', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const b = createFrameRing(1 << 18);
  const w = new FrameRingWriter(b), r = new FrameRingReader(b);
  let written = 0, read = 0, bytes = 0;
  const sent: Uint8Array[] = [];
  while (bytes < 8 * (1 << 18)) {
    const len = rng.pick([60, 61, 1514, 9000, MAX_RING_FRAME_BYTES, 60 + rng.int(MAX_RING_FRAME_BYTES - 59)]);
    const f = frame(len, written);
    if (w.write(f)) { sent.push(f); written++; bytes += len; continue; }
    for (const g of drainAll(r)) {
      assert.deepEqual(g, sent[read], `seed ${seed}: frame ${read} differs`);
      read++;
    }
    assert.equal(r.used, 0);
  }
  for (const g of drainAll(r)) assert.deepEqual(g, sent[read++], `seed ${seed}`);
  assert.equal(read, written);
  assert.equal(r.pending, false);
});

test('a full ring refuses a frame whole and counts it; too long and empty frames are refused too', () => {
  const b = createFrameRing(256);
  const w = new FrameRingWriter(b), r = new FrameRingReader(b);
  assert.ok(w.write(frame(120, 1)));
  assert.ok(w.write(frame(120, 2)));
  assert.equal(w.used, 248);
  assert.equal(w.write(frame(5, 3)), false, '4 + 5 bytes do not fit in the 8 left');
  assert.ok(w.write(frame(4, 4)), 'exactly the room left fits');
  assert.equal(w.used, 256);
  assert.equal(w.write(new Uint8Array(0)), false);
  assert.equal(w.write(new Uint8Array(MAX_RING_FRAME_BYTES + 1)), false);
  assert.equal(w.dropped, 3);
  assert.deepEqual(drainAll(r).map((f) => f[0]), [frame(120, 1)[0], frame(120, 2)[0], frame(4, 4)[0]]);
  assert.equal(new FrameRingWriter(b).write(frame(300, 5)), false, 'larger than the whole ring');
});

test('a frame the reader refuses stays in the ring for the next drain', () => {
  const b = createFrameRing(1024);
  const w = new FrameRingWriter(b), r = new FrameRingReader(b);
  for (let i = 0; i < 3; i++) w.write(frame(100, i));
  let n = 0;
  assert.equal(r.drain(() => n++ < 1), 1);
  assert.ok(r.pending);
  const rest = drainAll(r);
  assert.deepEqual(rest, [frame(100, 1), frame(100, 2)]);
});

test('the byte counters wrap past 2^32 without losing a frame', () => {
  const b = createFrameRing(4096);
  const ctl = new Int32Array(b.ctl);
  ctl[0] = ctl[1] = 0xfffff000 | 0;
  const w = new FrameRingWriter(b), r = new FrameRingReader(b);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const f = frame(60 + ((i * 397) % 1400), i);
    assert.ok(w.write(f));
    sent.push(f);
    assert.deepEqual(drainAll(r), [f]);
  }
  assert.ok((ctl[0]! >>> 0) < 0x100000, 'the head wrapped');
});

test('refuses ring sizes that are not a power of two', () => {
  assert.throws(() => createFrameRing(1000), /power of two/);
});

test('a writer in another thread and a reader here: every frame arrives whole, in order', async () => {
  const b = createFrameRing(1 << 16);
  const url = new URL('../../src/vmm/core/frame-ring.js', import.meta.url).href;
  const count = 3000;
  // The writer retries a refused frame (ring full) until the reader made room.
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    import(workerData.url).then(({ FrameRingWriter }) => {
      const w = new FrameRingWriter(workerData.b);
      const nap = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < workerData.count; i++) {
        const len = 60 + ((i * 7919) % 9000);
        const f = new Uint8Array(len);
        for (let k = 0; k < len; k++) f[k] = (k * 31 + i * 7 + (k >> 8)) & 0xff;
        while (!w.write(f)) Atomics.wait(nap, 0, 0, 1);
      }
    });`, { eval: true, workerData: { b, url, count } });
  const r = new FrameRingReader(b);
  let got = 0;
  const exited = new Promise<void>((resolve, reject) => { worker.on('exit', () => resolve()); worker.on('error', reject); });
  let done = false;
  void exited.then(() => { done = true; });
  while (got < count) {
    r.drain((f) => {
      assert.deepEqual(f, frame(60 + ((got * 7919) % 9000), got), `frame ${got}`);
      got++;
      return true;
    });
    if (got < count) {
      if (done && !r.pending) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await exited;
  assert.equal(got, count);
});
