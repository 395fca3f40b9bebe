// What a real backend's getState returns must pass the frontend's setState checks unchanged:
// otherwise save/restore (cpu.setState(cpu.getState())) would fail on valid states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, resetState } from '../../src/index.js';
import { guestBinary } from '../support.js';
import { useTempRundir } from './fake-backend.js';
import { BACKEND_NAMES, backendSkip } from './real-backends.js';

useTempRundir();

for (const name of BACKEND_NAMES) {
  test(`${name}: setState(getState()) is accepted for every group, before and after running a guest`, { skip: backendSkip(name, 'state round trip') }, () => {
    const hv = Hypervisor.open({ backend: name });
    try {
      const m = hv.createMachine();
      const rom = m.allocate(0x1000);
      rom.bytes.set(guestBinary('calc'));
      m.map(0xfffff000, rom, { prot: 'rx' });
      const cpu = m.createVcpu(0);
      const fresh = cpu.getState();
      cpu.setState(fresh);
      cpu.setState(resetState());
      cpu.setState({ gprs: { rax: 40n, rbx: 2n, rdx: 0n } });
      assert.equal(cpu.run().reason, 'halted');
      const after = cpu.getState();
      assert.equal(after.gprs!.rbx & 0xffffffffn, 42n);
      for (const [group, flag] of Object.entries({ gprs: State.GPRS, segs: State.SEGS, crs: State.CRS, drs: State.DRS, msrs: State.MSRS, intr: State.INTR, fpu: State.FPU })) {
        cpu.setState({ [group]: after[group as keyof typeof after] }, flag);
      }
      cpu.setState(after);
      const again = cpu.getState();
      // the TSC keeps counting on KVM; everything else must come back as saved
      assert.ok(again.msrs!.tsc >= after.msrs!.tsc);
      assert.deepEqual({ ...again, msrs: { ...again.msrs, tsc: 0n } }, { ...after, msrs: { ...after.msrs, tsc: 0n } }, 'restoring the saved state changes nothing');
    } finally {
      hv.close();
    }
  });
}
