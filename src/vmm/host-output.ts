/**
 * Writes to the monitor's standard output synchronously and completely. A parent that spawned us
 * with a pipe or socket may have left it non-blocking (Node's child_process does), so a plain
 * writeSync fails with EAGAIN when the reader is slow: that would lose guest output or crash the
 * monitor. This waits for room instead, so nothing the guest wrote is dropped and order is kept.
 */
import { writeSync } from 'node:fs';

const nap = new Int32Array(new SharedArrayBuffer(4));

export function writeAllSync(fd: number, data: Uint8Array | string): void {
  let bytes = typeof data === 'string' ? Buffer.from(data) : data;
  while (bytes.length > 0) {
    let n: number;
    try {
      n = writeSync(fd, bytes);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(nap, 0, 0, 1); // the reader has not caught up: wait for room
      continue;
    }
    bytes = bytes.subarray(n);
  }
}
