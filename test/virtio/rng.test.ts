/** virtio-rng fills the guest's writable buffers from the host CSPRNG, capped per request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BYTES_PER_REQUEST, VirtioRng } from '../../src/vmm/devices/virtio/rng.js';
import { TestMachine } from './guest-driver.js';

test('the buffers are filled with random bytes and the used length says how many', () => {
  const rng = new VirtioRng();
  const m = new TestMachine(rng);
  const [q] = m.init({ useMsix: true });
  const a = m.ram.alloc(256), b = m.ram.alloc(256);
  q!.add([{ gpa: a, len: 256, write: true }, { gpa: b, len: 256, write: true }]);
  m.kick(q!);
  assert.deepEqual(q!.takeUsed(), [{ id: 0, len: 512 }]);
  const bytes = m.ram.bytes.subarray(a, a + 256);
  // 256 zero bytes stay zero with probability 0; distinct values show it is not a constant fill.
  assert.ok(new Set(bytes).size > 100, `only ${new Set(bytes).size} distinct byte values`);
  assert.notDeepEqual([...bytes], [...m.ram.bytes.subarray(b, b + 256)]);
  assert.equal(rng.bytesServed, 512);
});

test('a request larger than the cap gets the cap, and the rest of the buffer is untouched', () => {
  const m = new TestMachine(new VirtioRng());
  const [q] = m.init();
  const len = MAX_BYTES_PER_REQUEST + 4096;
  const buf = m.ram.alloc(len);
  q!.add([{ gpa: buf, len, write: true }]);
  m.kick(q!);
  assert.deepEqual(q!.takeUsed(), [{ id: 0, len: MAX_BYTES_PER_REQUEST }]);
  assert.ok(m.ram.bytes.subarray(buf + MAX_BYTES_PER_REQUEST, buf + len).every((x) => x === 0));
});
