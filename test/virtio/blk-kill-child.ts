/**
 * Child process of the kill -9 durability test: a guest driver writes a pattern through
 * virtio-blk, flushes, says "flushed" on stdout, then waits to be killed.
 * argv: image path, first sector, sector count, pattern seed.
 */
import { VirtioBlk } from '../../src/vmm/devices/virtio/blk.js';
import { TestMachine } from './guest-driver.js';
import { T, blkRequest } from './blk-requests.js';

export function pattern(seed: number, length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + seed) & 0xff);
}

if (process.argv[2]) {
  const [path, sector, count, seed] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
  const m = new TestMachine(new VirtioBlk({ path }));
  const [q] = m.init({ useMsix: true });
  const w = blkRequest(m, q!, T.OUT, sector, pattern(seed, count * 512), { split: 4096 });
  const f = blkRequest(m, q!, T.FLUSH, 0, 0);
  if (w.status !== 0 || f.status !== 0) {
    process.stderr.write(`write status ${w.status}, flush status ${f.status}\n`);
    process.exit(2);
  }
  process.stdout.write('flushed\n');
  // Wait without spinning until SIGKILL arrives.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
