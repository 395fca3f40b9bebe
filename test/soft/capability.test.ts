/**
 * The soft backend's capability says what its CPU really keeps: guest FPU state components x87
 * and SSE (XCR0 0x3: the x87 and XMM/MXCSR state live in the vCPU state and in FXSAVE images),
 * nothing XSAVE-managed beyond them (XSAVE/XSETBV are #UD, CPUID does not offer XSAVE).
 * `tsvisor identify --backend soft` prints the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State, VmmError } from '../../src/index.js';
import { tsvisor } from '../cli/run-cli.js';
import { longMode, softVm } from './vm.js';

const XCR0_X87_SSE = 0x3n;
const CR4_OSFXSR = 1n << 9n;

test('soft capability: xcr0Mask is x87|SSE, and setState accepts exactly those XCR0 values', () => {
  const vm = softVm();
  try {
    assert.equal(vm.hv.capability().arch.xcr0Mask, XCR0_X87_SSE);
    vm.cpu.setState({ crs: { xcr0: XCR0_X87_SSE } }, State.CRS);
    assert.equal(vm.cpu.getState(State.CRS).crs!.xcr0, XCR0_X87_SSE);
    assert.throws(() => vm.cpu.setState({ crs: { xcr0: 0x7n } }, State.CRS), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
  } finally {
    vm.hv.close();
  }
});

test('soft keeps the SSE state component: LDMXCSR and XMM registers show in FXSAVE; XSETBV is #UD', () => {
  const vm = softVm();
  try {
    // ldmxcsr [0x3000]; fxsave [0x4000]; out 0xf4, al
    vm.ram.set([0x0f, 0xae, 0x14, 0x25, 0x00, 0x30, 0x00, 0x00, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x40, 0x00, 0x00, 0xe6, 0xf4], 0x10000);
    const dv = new DataView(vm.ram.buffer, vm.ram.byteOffset);
    dv.setUint32(0x3000, 0x1fc0, true); // default MXCSR with DAZ
    const st = longMode(vm, 0x10000);
    st.crs = { ...st.crs!, cr4: st.crs!.cr4! | CR4_OSFXSR };
    vm.cpu.setState(st);
    const xmm = Array.from({ length: 16 }, (_, k) => new Uint8Array(16).fill(k + 1));
    vm.cpu.setState({ fpu: { xmm } }, State.FPU);
    const e = vm.cpu.run();
    assert.equal(e.reason, 'io');
    assert.equal(dv.getUint32(0x4000 + 24, true), 0x1fc0, 'MXCSR in the FXSAVE image');
    assert.equal(vm.cpu.getState(State.FPU).fpu!.mxcsr, 0x1fc0);
    assert.deepEqual(Array.from(vm.ram.subarray(0x4000 + 160 + 16 * 5, 0x4000 + 160 + 16 * 6)), Array(16).fill(6), 'XMM5 in the FXSAVE image');

    // xsetbv: no XSAVE-managed state beyond x87/SSE (CPUID.1:ECX.XSAVE clear): #UD -> no IDT -> shutdown.
    vm.ram.set([0x0f, 0x01, 0xd1], 0x10000);
    vm.cpu.setState(longMode(vm, 0x10000));
    assert.equal(vm.cpu.run().reason, 'shutdown');
  } finally {
    vm.hv.close();
  }
});

test('tsvisor identify --backend soft prints the guest FPU states x87 and SSE', () => {
  const r = tsvisor(['identify', '--backend', 'soft']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^tsvisor: Guest FPU states 0x3<x87,SSE>$/m);
  const j = tsvisor(['identify', '--json', '--backend', 'soft']);
  const arch = (JSON.parse(j.stdout) as { arch: { xcr0Mask: string; guestFpuStates: string[] } }).arch;
  assert.deepEqual([arch.xcr0Mask, arch.guestFpuStates], ['0x3', ['x87', 'SSE']]);
});
