/** virtio-blk against a temporary image file: read, write, flush, get-id, read-only, range checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtioBlk } from '../../src/vmm/devices/virtio/blk.js';
import { TestMachine } from './guest-driver.js';
import { T, blkRequest } from './blk-requests.js';

const dir = mkdtempSync(join(tmpdir(), 'virtio-blk-'));
const SECTORS = 64;

function image(name: string): string {
  const path = join(dir, name);
  const bytes = new Uint8Array(SECTORS * 512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
  writeFileSync(path, bytes);
  return path;
}

function setup(path: string, readOnly = false) {
  const blk = new VirtioBlk({ path, readOnly, serial: 'tsvisor-disk-0' });
  const m = new TestMachine(blk);
  const [q] = m.init({ useMsix: true });
  return { blk, m, q: q! };
}

test('configuration: capacity in sectors, size_max, seg_max, blk_size; feature bits', () => {
  const { m } = setup(image('cfg.img'));
  const dev = m.caps!.device;
  assert.equal(m.mmioRead(dev, 4), SECTORS);
  assert.equal(m.mmioRead(dev + 4, 4), 0);
  assert.equal(m.mmioRead(dev + 8, 4), 1 << 20);
  assert.equal(m.mmioRead(dev + 12, 4), 254);
  assert.equal(m.mmioRead(dev + 20, 4), 512);
  assert.equal(m.dev.core.negotiated & (1n << 9n), 1n << 9n, 'FLUSH');
  assert.equal(m.dev.core.negotiated & (1n << 5n), 0n, 'not RO');
  assert.equal(m.cfg.read(m.slot, 0, 0, 4), 0x10421af4);
});

test('read returns the image bytes, over split and indirect data segments', () => {
  const path = image('read.img');
  const { m, q } = setup(path);
  const file = readFileSync(path);
  const r = blkRequest(m, q, T.IN, 3, 1024, { split: 100 });
  assert.equal(r.status, 0);
  assert.equal(r.used, 1025, 'data plus status byte');
  assert.deepEqual(r.data, new Uint8Array(file.subarray(3 * 512, 5 * 512)));
  const r2 = blkRequest(m, q, T.IN, SECTORS - 1, 512, { indirect: true, split: 128 });
  assert.deepEqual(r2.data, new Uint8Array(file.subarray((SECTORS - 1) * 512)));
});

test('write lands in the file at the sector; flush succeeds; a read sees it', () => {
  const path = image('write.img');
  const { m, q } = setup(path);
  const data = new Uint8Array(1536).map((_, i) => (i * 13) & 0xff);
  const w = blkRequest(m, q, T.OUT, 10, data, { split: 300 });
  assert.equal(w.status, 0);
  assert.equal(w.used, 1, 'only the status byte was written by the device');
  assert.equal(blkRequest(m, q, T.FLUSH, 0, 0).status, 0);
  assert.deepEqual(new Uint8Array(readFileSync(path).subarray(10 * 512, 13 * 512)), data);
  assert.deepEqual(blkRequest(m, q, T.IN, 10, 1536).data, data);
});

test('get-id returns the serial, zero-padded to 20 bytes', () => {
  const { m, q } = setup(image('id.img'));
  const r = blkRequest(m, q, T.GET_ID, 0, 20);
  assert.equal(r.status, 0);
  assert.equal(new TextDecoder().decode(r.data.subarray(0, 14)), 'tsvisor-disk-0');
  assert.deepEqual([...r.data.subarray(14)], [0, 0, 0, 0, 0, 0]);
  assert.equal(r.used, 21);
});

test('out-of-range sectors, partial sectors and unknown types fail with IOERR/UNSUPP, the file untouched', () => {
  const path = image('range.img');
  const before = readFileSync(path);
  const { m, q, blk } = setup(path);
  assert.equal(blkRequest(m, q, T.IN, SECTORS, 512).status, 1, 'read past the end');
  assert.equal(blkRequest(m, q, T.OUT, SECTORS - 1, new Uint8Array(1024)).status, 1, 'write straddling the end');
  assert.equal(blkRequest(m, q, T.IN, 2 ** 52, 512).status, 1, 'absurd sector');
  assert.equal(blkRequest(m, q, T.OUT, 0, new Uint8Array(100)).status, 1, 'not whole sectors');
  assert.equal(blkRequest(m, q, 11, 0, 512).status, 2, 'discard is not offered: UNSUPP');
  assert.equal(blk.ioErrors, 4);
  assert.deepEqual(readFileSync(path), before);
  assert.equal(m.dev.core.errors, 0, 'I/O errors are reported in the status byte, not as device errors');
});

test('read-only: RO offered, writes fail with IOERR, the file was opened read-only', () => {
  const path = image('ro.img');
  const before = readFileSync(path);
  const { m, q, blk } = setup(path, true);
  assert.equal(m.dev.core.negotiated & (1n << 5n), 1n << 5n, 'VIRTIO_BLK_F_RO');
  assert.equal(blkRequest(m, q, T.OUT, 0, new Uint8Array(512).fill(1)).status, 1);
  assert.equal(blkRequest(m, q, T.FLUSH, 0, 0).status, 0);
  assert.equal(blkRequest(m, q, T.IN, 0, 512).status, 0);
  assert.deepEqual(readFileSync(path), before);
  assert.match(blk.lastHostError, /read-only/);
});

test('a request without header or status byte is a driver error: NEEDS_RESET', () => {
  const { m, q } = setup(image('bad.img'));
  q.add([{ gpa: m.ram.alloc(8), len: 8 }, { gpa: m.ram.alloc(1), len: 1, write: true }]);
  m.kick(q);
  assert.ok(m.status() & 0x40);
  assert.match(m.dev.core.lastError, /without a header or status byte/);
});

test('a missing image is refused with ENOENT naming the path', () => {
  assert.throws(() => new VirtioBlk({ path: join(dir, 'nope.img') }), /ENOENT: cannot open block image .*nope\.img/);
  assert.throws(() => new VirtioBlk({ path: dir }), /not a regular file|EISDIR|cannot open/);
});
