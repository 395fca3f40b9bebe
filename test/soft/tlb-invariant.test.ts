/**
 * The soft CPU's TLB invariant: a page walk that succeeds for a read or a fetch always grants
 * that right (paging.ts walk / the MMU walker: the walk faults exactly when the right is
 * missing), so no guest can reach the "walk granted no right" branch of SoftCpu.slot. Should the
 * invariant ever break (a bug), that branch must raise a VmmError naming the access, and run()
 * must report it as an 'invalid' exit, never throw into the host. The test breaks the invariant
 * on purpose by making the TLB drop every permission it is given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { SoftMachine } from '../../src/backends/soft/vcpu.js';
import { realModeState } from '../../src/x86/boot-state.js';

/** An Int32Array stand-in that forgets writes and reads as 0: every TLB entry has no rights. */
function permsThatNeverStick(target: Int32Array): Int32Array {
  return new Proxy(target, {
    get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) ? 0 : ((v) => (typeof v === 'function' ? v.bind(t) : v))(Reflect.get(t, k))),
    set: () => true,
  });
}

test('soft: a walk that grants no fetch right is a VmmError reported as an invalid exit, not a host exception', () => {
  const m = new SoftMachine(undefined);
  const bytes = new Uint8Array(new SharedArrayBuffer(0x10000));
  m.map(0, { bytes, size: bytes.length }, 0, bytes.length, 'rwx');
  bytes.set([0x90, 0xf4], 0x1000); // nop; hlt
  const v = m.createVcpu(0) as import('../../src/backends/soft/vcpu.js').SoftVcpu;
  v.setState(realModeState(0, 0x1000, 0x8000), State.ALL);
  Object.defineProperty(v.cpu.tlb, 'perm', { value: permsThatNeverStick(v.cpu.tlb.perm) });
  const e = v.run();
  assert.equal(e.reason, 'invalid', JSON.stringify(e, (_k, x) => (typeof x === 'bigint' ? String(x) : x)));
  if (e.reason !== 'invalid') return;
  assert.match(e.detail, /VmmError: EIO: .*linear 0x1000 .*granted no fetch right/, e.detail);
  m.destroy();
});
