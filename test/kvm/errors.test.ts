/** What the KVM backend refuses, and with which code (the frontend's own checks are tested in test/frontend). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State, VmmError, stopVcpu } from '../../src/index.js';
import type { VmmErrorCode } from '../../src/index.js';
import { skipUnlessKvm } from '../support.js';
import { longGuest } from './kvm-guest.js';

const skip = skipUnlessKvm();

function code(c: VmmErrorCode): (e: unknown) => boolean {
  return (e: unknown) => e instanceof VmmError && e.code === c;
}

test('KVM backend refusals carry a code and name the value', { skip }, () => {
  const g = longGuest('kvm-spin');
  try {
    const { cpu, hv } = g;
    const mask = hv.capability().arch.mxcsrMask;
    assert.throws(() => cpu.setState({ fpu: { mxcsrMask: mask ^ 0x40 } }), code('EINVAL'), 'MXCSR_MASK is fixed by the CPU');
    assert.throws(() => cpu.setState({ intr: { evtPending: true } }), code('EINVAL'), 'evtPending without an event');
    cpu.inject({ type: 'interrupt', vector: 0x40 });
    assert.throws(() => cpu.inject({ type: 'interrupt', vector: 0x41 }), code('EBUSY'), 'a second held interrupt');
    cpu.inject({ type: 'exception', vector: 13, errorCode: 0 });
    assert.throws(() => cpu.inject({ type: 'exception', vector: 6 }), code('EBUSY'), 'a second held exception');
    assert.throws(() => cpu.configureCpuid(7, { exit: true }), code('ENOTSUP'));
    assert.throws(() => cpu.run({ maxInstructions: 1000 }), code('ENOTSUP'), 'KVM cannot stop after a count of instructions');
    assert.throws(() => cpu.setState({ crs: { cr0: 0n, cr4: 0x20n } }), (e: unknown) => e instanceof VmmError, 'KVM refuses an inconsistent CR0/EFER');
    assert.throws(() => stopVcpu({ backend: 'kvm', data: { shared: new SharedArrayBuffer(12), pid: process.pid + 1 } }), code('EINVAL'));
    assert.throws(() => stopVcpu({ backend: 'kvm', data: { shared: 'nope', pid: process.pid } }), code('EINVAL'));
    assert.equal(cpu.getState(State.INTR).intr!.evtPending, true);
  } finally {
    g.done();
  }
});

test('a destroyed KVM vCPU refuses further use', { skip }, () => {
  const g = longGuest('kvm-spin');
  g.cpu.destroy();
  assert.throws(() => g.cpu.run(), code('ENOENT'));
  g.done();
});
