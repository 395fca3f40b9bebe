/**
 * The split virtqueue against a hand-written driver: direct and indirect chains, used-ring
 * contents, EVENT_IDX and NO_INTERRUPT suppression, and each kind of malformed chain, which must
 * end in DEVICE_NEEDS_RESET with a reason rather than an exception or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoModel } from './echo-model.js';
import { RAM_SIZE, STATUS, TestMachine, type DriverQueue } from './guest-driver.js';

const F_INDIRECT = 1n << 28n, F_EVENT_IDX = 1n << 29n, VERSION_1 = 1n << 32n;

function machine(features = VERSION_1 | F_INDIRECT | F_EVENT_IDX): { m: TestMachine; q: DriverQueue; model: EchoModel } {
  const model = new EchoModel([8]);
  const m = new TestMachine(model);
  const [q] = m.init({ features, useMsix: true });
  return { m, q: q!, model };
}

test('a direct chain: readable then writable segments, payload read, used length = bytes written', () => {
  const { m, q, model } = machine();
  const a = m.ram.alloc(5), b = m.ram.alloc(3), w1 = m.ram.alloc(4), w2 = m.ram.alloc(10);
  m.ram.bytes.set([1, 2, 3, 4, 5], a);
  m.ram.bytes.set([6, 7, 8], b);
  q.add([{ gpa: a, len: 5 }, { gpa: b, len: 3 }, { gpa: w1, len: 4, write: true }, { gpa: w2, len: 10, write: true }]);
  m.kick(q);
  assert.deepEqual([...model.payloads[0]!], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(model.chains[0]!.writable.length, 2);
  assert.deepEqual(q.takeUsed(), [{ id: 0, len: 14 }]);
  assert.deepEqual([...m.ram.bytes.subarray(w2, w2 + 10)], new Array(10).fill(0xa5));
});

test('several chains in one notify, wrapping the rings past the queue size', () => {
  const { m, q, model } = machine();
  for (let round = 0; round < 5; round++) {
    for (let k = 0; k < 3; k++) q.add([{ gpa: m.ram.alloc(8), len: 8, write: true }]);
    m.kick(q);
    assert.equal(q.takeUsed().length, 3);
  }
  assert.equal(model.chains.length, 15);
  assert.equal(m.dev.core.errors, 0);
});

test('an indirect chain is walked through its table', () => {
  const { m, q, model } = machine();
  const r = m.ram.alloc(4), w = m.ram.alloc(4);
  m.ram.bytes.set([9, 8, 7, 6], r);
  q.add([{ gpa: r, len: 4 }, { gpa: w, len: 4, write: true }], { indirect: true });
  m.kick(q);
  assert.deepEqual([...model.payloads[0]!], [9, 8, 7, 6]);
  assert.deepEqual(q.takeUsed(), [{ id: 0, len: 4 }]);
});

test('EVENT_IDX: used_event decides the interrupt, avail_event follows the device', () => {
  const { m, q } = machine();
  q.usedEvent = 5; // the driver wants an interrupt only once used idx passes 5
  q.add([{ gpa: m.ram.alloc(4), len: 4, write: true }]);
  m.kick(q);
  assert.equal(m.sink.messages.length, 0, 'used idx 1 does not cross used_event 5');
  assert.equal(q.availEvent, 1, 'avail_event = next entry the device will read');
  q.usedEvent = 1;
  q.add([{ gpa: m.ram.alloc(4), len: 4, write: true }]);
  m.kick(q);
  assert.equal(m.sink.messages.length, 1, 'used idx moved 1 -> 2, crossing used_event 1');
  assert.equal(q.availEvent, 2);
});

test('without EVENT_IDX the NO_INTERRUPT flag suppresses the interrupt', () => {
  const { m, q } = machine(VERSION_1);
  q.availFlags = 1;
  q.add([{ gpa: m.ram.alloc(4), len: 4, write: true }]);
  m.kick(q);
  assert.equal(m.sink.messages.length, 0);
  q.availFlags = 0;
  q.add([{ gpa: m.ram.alloc(4), len: 4, write: true }]);
  m.kick(q);
  assert.equal(m.sink.messages.length, 1);
});

/** Each malformed layout, written by hand into the queue, and the reason the device must give. */
const MALFORMED: [string, (m: TestMachine, q: DriverQueue) => void, RegExp][] = [
  ['a descriptor loop', (m, q) => { q.setDesc(0, m.ram.alloc(4), 4, 1, 1); q.setDesc(1, m.ram.alloc(4), 4, 1, 0); publish(m, q, 0); }, /longer than 8 descriptors/],
  ['a next index past the table', (m, q) => { q.setDesc(0, m.ram.alloc(4), 4, 1, 200); publish(m, q, 0); }, /index 200 is outside its 8-entry table/],
  ['a head index past the table', (m, q) => publish(m, q, 9), /index 9 is outside/],
  ['a buffer outside RAM', (_m, q) => { q.setDesc(0, RAM_SIZE - 2, 4, 2, 0); publish(_m, q, 0); }, /is not RAM/],
  ['a buffer above 2^53', (m, q) => { q.setDesc(0, 0, 4, 2, 0); m.ram.set32(q.desc + 4, 0xffffffff); publish(m, q, 0); }, /is not RAM/],
  ['a readable buffer after a writable one', (m, q) => { q.setDesc(0, m.ram.alloc(4), 4, 3, 1); q.setDesc(1, m.ram.alloc(4), 4, 0, 0); publish(m, q, 0); }, /readable descriptor after a device-writable/],
  ['an indirect table with NEXT', (m, q) => { q.setDesc(0, m.ram.alloc(16), 16, 5, 1); publish(m, q, 0); }, /indirect descriptor with the NEXT flag/],
  ['an indirect table of 17 bytes', (m, q) => { q.setDesc(0, m.ram.alloc(32), 17, 4, 0); publish(m, q, 0); }, /indirect table of 17 bytes/],
  ['an indirect descriptor inside an indirect table', (m, q) => {
    const t = m.ram.alloc(32);
    q.setDesc(0, m.ram.alloc(16), 16, 4, 0, t);
    q.setDesc(0, t, 16, 4, 0);
    publish(m, q, 0);
  }, /indirect descriptor inside an indirect table/],
  ['a loop inside an indirect table', (m, q) => {
    const t = m.ram.alloc(32);
    q.setDesc(0, m.ram.alloc(4), 4, 1, 1, t);
    q.setDesc(1, m.ram.alloc(4), 4, 1, 0, t);
    q.setDesc(0, t, 32, 4, 0);
    publish(m, q, 0);
  }, /longer than 2 descriptors/],
  ['an available index far ahead', (m, q) => { m.ram.set16(q.avail + 2, 100); m.kick(q); }, /100 entries ahead of 0, more than the queue size 8/],
];

function publish(m: TestMachine, q: DriverQueue, head: number): void {
  m.ram.set16(q.avail + 4, head);
  m.ram.set16(q.avail + 2, 1);
  m.kick(q);
}

for (const [what, build, reason] of MALFORMED) {
  test(`${what} sets DEVICE_NEEDS_RESET with the reason, and a reset recovers`, () => {
    const { m, q, model } = machine();
    build(m, q);
    assert.ok(m.status() & STATUS.NEEDS_RESET, 'NEEDS_RESET');
    assert.match(m.dev.core.lastError, reason);
    assert.equal(m.dev.core.errors, 1);
    assert.equal(model.chains.length, 0);
    assert.deepEqual(m.sink.messages, [{ address: 0xfee00000, data: 0x40 }], 'configuration-change interrupt on vector 0');
    m.kick(q);
    assert.equal(m.dev.core.errors, 1, 'a broken device ignores further notifies');
    const [q2] = m.init({ useMsix: true });
    q2!.add([{ gpa: m.ram.alloc(4), len: 4, write: true }]);
    m.kick(q2!);
    assert.equal(q2!.takeUsed().length, 1, 'works again after reset');
  });
}

test('a ring placed outside RAM is refused at queue_enable', () => {
  const m = new TestMachine(new EchoModel([8]));
  m.findCaps();
  m.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER);
  m.setCommon(0x16, 2, 0);
  m.setCommon(0x20, 4, RAM_SIZE - 64);
  m.setCommon(0x1c, 2, 1);
  assert.equal(m.common(0x1c, 2), 0);
  assert.match(m.dev.core.lastError, /is not RAM/);
});
