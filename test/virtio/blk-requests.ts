/** virtio-blk requests as Linux's virtio_blk builds them: header, data, status byte. */
import type { DriverQueue, TestMachine } from './guest-driver.js';

export const T = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8 } as const;

export interface BlkResult { status: number; used: number; data: Uint8Array }

/** Submits one request and returns the status byte, the used length and the data buffer's contents. */
export function blkRequest(m: TestMachine, q: DriverQueue, type: number, sector: number, data: Uint8Array | number, opts: { split?: number; indirect?: boolean } = {}): BlkResult {
  const header = m.ram.alloc(16);
  m.ram.set32(header, type);
  m.ram.set32(header + 4, 0);
  m.ram.view.setBigUint64(header + 8, BigInt(sector), true);
  const length = typeof data === 'number' ? data : data.length;
  const buf = m.ram.alloc(Math.max(length, 1));
  if (typeof data !== 'number') m.ram.bytes.set(data, buf);
  const status = m.ram.alloc(1);
  m.ram.bytes[status] = 0xee;
  const write = type !== T.OUT;
  // Data split into segments of `split` bytes, like a scatter-gather list of pages.
  const segs = [];
  const step = opts.split ?? Math.max(length, 1);
  for (let off = 0; off < length; off += step) segs.push({ gpa: buf + off, len: Math.min(step, length - off), write });
  q.add([{ gpa: header, len: 16 }, ...segs, { gpa: status, len: 1, write: true }], { indirect: opts.indirect });
  m.kick(q);
  const used = q.takeUsed();
  if (used.length !== 1) throw new Error(`expected one used entry, got ${used.length}`);
  return { status: m.ram.bytes[status]!, used: used[0]!.len, data: m.ram.bytes.slice(buf, buf + length) };
}
