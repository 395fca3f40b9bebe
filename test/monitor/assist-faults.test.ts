/**
 * A device access whose instruction faults in the assist (here an unmasked SSE divide-by-zero on
 * an MMIO operand: #XM) is delivered to the guest by the monitor's loops (withGuestFaults), as the
 * CPU would deliver it, instead of ending the run with an exception in the monitor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, VmmError, realModeState, type Vcpu, type MemoryExit } from '../../src/index.js';
import { withGuestFaults } from '../../src/vmm/assist-faults.js';
import { backendSkip } from '../support.js';

const skip = backendSkip('soft', 'assist fault delivery');
const CR4_OSFXSR = 1n << 9n, CR4_OSXMMEXCPT = 1n << 10n, MXCSR_ZM = 1 << 9, MXCSR_ZE = 1 << 2;
const XM_HANDLER = 0x2000, MMIO = 0x9000;

function deviceExit(cpu: Vcpu): MemoryExit {
  const exit = cpu.run();
  assert.equal(exit.reason, 'memory');
  return exit as MemoryExit;
}

function machineAt() {
  const hv = Hypervisor.open({ backend: 'soft' });
  const m = hv.createMachine();
  const ram = m.allocate(0x8000); // 0x8000.. is no RAM: the divisor at 0x9000 is a device's
  m.map(0, ram);
  ram.bytes.set([0x0f, 0x5e, 0x06, MMIO & 0xff, MMIO >> 8, 0xf4], 0x1000); // divps xmm0, [0x9000]; hlt
  ram.bytes.set([0xf4], XM_HANDLER); // #XM handler: hlt
  new DataView(ram.bytes.buffer, ram.bytes.byteOffset).setUint32(19 * 4, XM_HANDLER, true); // IVT[19] = 0000:2000
  const cpu = m.createVcpu(0);
  const s = realModeState(0, 0x1000, 0x7000);
  cpu.setState({ ...s, crs: { ...s.crs, cr4: CR4_OSFXSR | CR4_OSXMMEXCPT } });
  const fpu = cpu.getState(State.FPU).fpu!;
  const one = new Uint8Array(16);
  for (let k = 0; k < 4; k++) new DataView(one.buffer).setFloat32(k * 4, 1, true);
  cpu.setState({ fpu: { ...fpu, mxcsr: 0x1f80 & ~MXCSR_ZM, xmm: fpu.xmm.map((x, i) => (i === 0 ? one : x)) } }, State.FPU);
  return { hv, cpu };
}

test('soft: an #XM raised by the assist on an MMIO operand reaches the guest handler', { skip }, () => {
  const { hv, cpu } = machineAt();
  try {
    const exit = deviceExit(cpu);
    const faulted = withGuestFaults(cpu, () => cpu.assistMem(exit, (req) => { if (!req.write) req.data.fill(0); }));
    assert.equal(faulted, true, 'the divide did not complete');
    const next = cpu.run();
    assert.equal(next.reason, 'halted');
    const st = cpu.getState(State.GPRS | State.FPU);
    assert.equal(Number(st.gprs!.rip) - 1, XM_HANDLER, 'the guest is in its #XM handler, not past the divide');
    assert.ok((st.fpu!.mxcsr & MXCSR_ZE) !== 0, 'MXCSR.ZE set by the faulting divide');
  } finally {
    hv.close();
  }
});

test('soft: an error that is not a guest fault still ends the run', { skip }, () => {
  const { hv, cpu } = machineAt();
  try {
    const exit = deviceExit(cpu);
    assert.throws(() => withGuestFaults(cpu, () => cpu.assistMem(exit, () => {
      throw new VmmError('EIO', 'device broke');
    })), /device broke/);
  } finally {
    hv.close();
  }
});
