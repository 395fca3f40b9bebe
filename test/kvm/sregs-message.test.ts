/**
 * A state KVM_SET_SREGS refuses is a VmmError EINVAL whose message names the CR0/CR3/CR4/EFER
 * values the call asked for, not a bare errno. The frontend refuses such states first (one answer
 * on every backend), so this drives the backend object directly: a 64-bit code segment (CS.L)
 * outside long mode. And a CR0.PG the host drops outside long mode (the PVM module) is ENOTSUP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State, VmmError } from '../../src/index.js';
import { openKvmBackend } from '../../src/backends/kvm/index.js';
import { realModeState } from '../../src/x86/boot-state.js';
import { skipUnlessKvm } from '../support.js';

const skip = skipUnlessKvm();

test('KVM_SET_SREGS refusals name the control-register values', { skip }, () => {
  const backend = openKvmBackend();
  const machine = backend.createMachine();
  try {
    const cpu = machine.createVcpu(0);
    const st = realModeState(0, 0x1000, 0x8000);
    cpu.setState(st, State.ALL & ~State.FPU & ~State.INTR & ~State.DRS);
    const cs = cpu.getState(State.SEGS).segs!.cs;
    assert.throws(
      () => cpu.setState({ crs: { cr0: 0x11n, cr4: 0x620n }, msrs: { efer: 0n }, segs: { cs: { ...cs, l: 1, def: 0 } } }, State.CRS | State.MSRS | State.SEGS),
      (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' &&
        /KVM_SET_SREGS \(CR0 0x11, CR3 0x[0-9a-f]+, CR4 0x620, EFER 0x0\)/.test(e.message),
    );
  } finally {
    machine.destroy();
    backend.close();
  }
});

test('CR0.PG outside long mode is kept, or refused with ENOTSUP where the host drops it, never lost silently', { skip }, () => {
  const backend = openKvmBackend();
  const machine = backend.createMachine();
  try {
    const cpu = machine.createVcpu(0);
    cpu.setState(realModeState(0, 0x1000, 0x8000), State.ALL & ~State.FPU & ~State.INTR & ~State.DRS);
    const cr0 = 0x80000011n; // PG | ET | PE: 32-bit paging
    try {
      cpu.setState({ crs: { cr0, cr3: 0x2000n, cr4: 0n } }, State.CRS);
    } catch (e) {
      assert.ok(e instanceof VmmError && e.code === 'ENOTSUP' && e.message.includes('CR0 0x80000011 was set'), String(e));
      return;
    }
    assert.equal(cpu.getState(State.CRS).crs!.cr0 & cr0, cr0, 'accepted, so CR0.PG reads back');
  } finally {
    machine.destroy();
    backend.close();
  }
});
