/**
 * A state KVM_SET_SREGS refuses (here: a 64-bit code segment, CS.L, outside long mode, which the
 * frontend does not check) is a VmmError EINVAL whose message names the CR0/CR3/CR4/EFER values
 * the call asked for, not a bare errno.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State, VmmError } from '../../src/index.js';
import { skipUnlessKvm } from '../support.js';
import { longGuest } from './kvm-guest.js';

const skip = skipUnlessKvm();

test('KVM_SET_SREGS refusals name the control-register values', { skip }, () => {
  const g = longGuest('kvm-spin');
  try {
    const { cpu } = g;
    const cs = cpu.getState(State.SEGS).segs!.cs;
    // Leave long mode (paging and LME off) but keep a 64-bit CS: KVM refuses the combination.
    assert.throws(
      () => cpu.setState({ crs: { cr0: 0x11n, cr4: 0x620n }, msrs: { efer: 0n }, segs: { cs: { ...cs, l: 1, def: 0 } } }),
      (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' &&
        /KVM_SET_SREGS \(CR0 0x11, CR3 0x[0-9a-f]+, CR4 0x620, EFER 0x0\)/.test(e.message),
    );
  } finally {
    g.done();
  }
});
