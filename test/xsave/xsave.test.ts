/**
 * The XSAVE feature set on the soft CPU (x87 | SSE): CPUID, CR4.OSXSAVE, XSETBV/XGETBV rules,
 * XSAVE/XSAVEOPT/XRSTOR faults, images equal to FXSAVE's, init-state restore, setState of XCR0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, VmmError } from '../../src/index.js';
import { AREA_A, AREA_B, CR0_TS, I, XsaveVm } from './xsave-vm.js';

const GP = 13, UD = 6, NM = 7;
const x = new XsaveVm();
const g = () => x.vm.cpu.getState(State.GPRS).gprs!;
const regs = (r: Record<string, bigint>) => ({ gprs: r });

test('CPUID: leaf 0 reaches 0DH, leaf 1 offers XSAVE and mirrors CR4.OSXSAVE, leaf 0DH as KVM reports x87|SSE', () => {
  const cpuid = (leaf: number, sub: number, osxsave: boolean) => {
    x.reset({ osxsave, extra: regs({ rax: BigInt(leaf), rcx: BigInt(sub) }) });
    assert.equal(x.run(I.cpuid).vector, undefined);
    const r = g();
    return [r.rax, r.rbx, r.rcx, r.rdx].map(Number);
  };
  assert.ok(cpuid(0, 0, false)[0]! >= 0xd);
  assert.equal((cpuid(1, 0, false)[2]! >>> 26) & 3, 1, 'XSAVE set, OSXSAVE clear');
  assert.equal((cpuid(1, 0, true)[2]! >>> 26) & 3, 3, 'XSAVE and OSXSAVE set');
  assert.deepEqual(cpuid(0xd, 0, true), [3, 576, 576, 0]);
  assert.deepEqual(cpuid(0xd, 1, true), [1, 0, 0, 0]);
  assert.deepEqual(cpuid(0xd, 2, true), [0, 0, 0, 0]);
});

test('MOV CR4 sets OSXSAVE (then CPUID shows it); #GP when the vCPU CPUID hides XSAVE', () => {
  x.reset({ osxsave: false });
  const cr4 = x.vm.cpu.getState(State.CRS).crs!.cr4 | (1n << 18n);
  x.vm.cpu.setState(regs({ rax: cr4 }));
  assert.equal(x.run(I.movCr4FromRax).vector, undefined);
  assert.equal(x.vm.cpu.getState(State.CRS).crs!.cr4, cr4);
  // The same on a vCPU whose CPUID hides XSAVE: the bit is reserved there -> #GP.
  x.vm.cpu.configureCpuid(1, { del: { ecx: 1 << 26 } });
  try {
    x.reset({ osxsave: false });
    x.vm.cpu.setState(regs({ rax: cr4 }));
    assert.equal(x.run(I.movCr4FromRax).vector, GP);
  } finally {
    x.vm.cpu.configureCpuid(1, {});
  }
});

test('every XSAVE-family instruction is #UD while CR4.OSXSAVE is clear, and with LOCK', () => {
  for (const code of [I.xgetbv, I.xsetbv, I.xsave(), I.xsaveopt(), I.xrstor(), I.xsave64()]) {
    x.reset({ osxsave: false, extra: regs({ rax: 3n, rdx: 0n, rcx: 0n, rdi: BigInt(AREA_A), rsi: BigInt(AREA_A) }) });
    assert.equal(x.run(code).vector, UD, Buffer.from(code).toString('hex'));
    x.reset({ extra: regs({ rax: 3n, rdx: 0n, rcx: 0n, rdi: BigInt(AREA_A), rsi: BigInt(AREA_A) }) });
    assert.equal(x.run([0xf0, ...code]).vector, UD, `LOCK ${Buffer.from(code).toString('hex')}`);
  }
});

test('XSAVEC/XSAVES/XRSTORS are not offered: #UD even with CR4.OSXSAVE set', () => {
  for (const code of [[0x0f, 0xc7, 0x27], [0x0f, 0xc7, 0x2f], [0x0f, 0xc7, 0x1f]]) {
    x.reset({ extra: regs({ rax: 3n, rdx: 0n, rdi: BigInt(AREA_A) }) });
    assert.equal(x.run(code).vector, UD, Buffer.from(code).toString('hex'));
  }
});

test('XSETBV: CPL 0, ECX = 0, bit 0 set, only bits 0-1; XGETBV: ECX = 0 at any CPL, ECX = 1 is #GP (no XINUSE)', () => {
  const setbv = (rax: bigint, rdx: bigint, rcx: bigint, cpl: 0 | 3 = 0) => {
    x.reset({ cpl, xcr0: 1n, extra: regs({ rax, rdx, rcx }) });
    return x.run(I.xsetbv).vector;
  };
  assert.equal(setbv(3n, 0n, 0n), undefined);
  assert.equal(x.vm.cpu.getState(State.CRS).crs!.xcr0, 3n);
  assert.equal(setbv(0xffffffff00000001n, 0xffffffff00000000n, 0n), undefined, 'upper halves of RAX/RDX ignored');
  assert.equal(x.vm.cpu.getState(State.CRS).crs!.xcr0, 1n);
  assert.equal(setbv(2n, 0n, 0n), GP, 'x87 bit clear');
  assert.equal(setbv(7n, 0n, 0n), GP, 'AVX not supported');
  assert.equal(setbv(3n, 1n, 0n), GP, 'EDX bit');
  assert.equal(setbv(3n, 0n, 1n), GP, 'ECX = 1');
  assert.equal(setbv(3n, 0n, 0n, 3), GP, 'CPL 3');
  assert.equal(x.vm.cpu.getState(State.CRS).crs!.xcr0, 1n, 'a refused XSETBV changes nothing');
  for (const cpl of [0, 3] as const) {
    x.reset({ cpl, xcr0: 3n, extra: regs({ rax: (1n << 64n) - 1n, rdx: (1n << 64n) - 1n, rcx: 0n }) });
    assert.equal(x.run(I.xgetbv).vector, undefined);
    assert.deepEqual([g().rax, g().rdx], [3n, 0n]);
  }
  x.reset({ extra: regs({ rcx: 1n }) });
  assert.equal(x.run(I.xgetbv).vector, GP);
});

test('XSAVE/XSAVEOPT/XRSTOR: #NM with CR0.TS, #GP unless 64-byte aligned', () => {
  for (const code of [I.xsave(), I.xsaveopt(), I.xrstor(), I.xsave64(), I.xrstor64()]) {
    x.reset({ extra: regs({ rax: 3n, rdx: 0n, rdi: BigInt(AREA_A), rsi: BigInt(AREA_A) }) });
    x.vm.cpu.setState({ crs: { cr0: x.vm.cpu.getState(State.CRS).crs!.cr0 | CR0_TS } });
    assert.equal(x.run(code).vector, NM);
    x.reset({ extra: regs({ rax: 3n, rdx: 0n, rdi: BigInt(AREA_A + 16), rsi: BigInt(AREA_A + 32) }) });
    assert.equal(x.run(code).vector, GP);
  }
});

/** A recognisable x87/SSE state through setState. */
function fpuState(seed: number) {
  const st = Array.from({ length: 8 }, (_, k) => Uint8Array.from({ length: 10 }, (_, j) => (seed * 7 + k * 13 + j * 3) & 0xff));
  const xmm = Array.from({ length: 16 }, (_, k) => Uint8Array.from({ length: 16 }, (_, j) => (seed * 5 + k * 11 + j) & 0xff));
  return { fcw: 0x27f, fsw: 0x3800 | 0x20, ftw: 0xa5, fop: 0x1d9, fip: 0x123456789an, fdp: 0xfedcba98n, mxcsr: 0x1fa0, st, xmm };
}

for (const [name, fxCode, xsCode, rs] of [['XSAVE64', I.fxsave64, I.xsave64(), I.xrstor64()], ['XSAVE', I.fxsave, I.xsave(), I.xrstor()]] as const) {
  test(`${name} writes FXSAVE's image of the same width (bytes 0-415), XSTATE_BV = in-use components; XRSTOR brings the state back`, () => {
    const f = fpuState(3);
    // Without REX.W, FIP/FDP are 32 bits wide: only such values survive the round trip.
    if (name === 'XSAVE') { f.fip &= 0xffffffffn; f.fdp &= 0xffffffffn; }
    x.reset({ extra: { fpu: f, gprs: { rax: 3n, rdx: 0n, rbx: BigInt(AREA_A), rdi: BigInt(AREA_B) } } });
    x.vm.ram.fill(0xcc, AREA_B, AREA_B + 576);
    assert.equal(x.run([...fxCode, ...xsCode]).vector, undefined);
    const fx = x.area(AREA_A, 512), xs = x.area(AREA_B);
    assert.deepEqual(xs.subarray(0, 416), fx.subarray(0, 416));
    assert.ok(xs.subarray(416, 512).every((b) => b === 0xcc), 'bytes 416-511 untouched');
    assert.equal(xs[512], (0xcc & ~3) | 3);
    assert.ok(xs.subarray(513, 576).every((b) => b === 0xcc), 'header past XSTATE_BV untouched');
    // Clobber the state, then restore it from the XSAVE image (its header past bits 0-7 zeroed
    // first, as an OS initializes an area: XSAVE left the 0xcc fill there, which XRSTOR refuses).
    x.vm.ram.fill(0, AREA_B + 513, AREA_B + 576);
    x.vm.ram[AREA_B + 512]! &= 3;
    x.reset({ extra: { fpu: fpuState(9), gprs: { rax: 3n, rdx: 0n, rsi: BigInt(AREA_B) } } });
    assert.equal(x.run(rs).vector, undefined);
    const back = x.vm.cpu.getState(State.FPU).fpu!;
    assert.deepEqual({ ...back, mxcsrMask: 0 }, { ...f, mxcsrMask: 0 });
  });
}

test('XSAVE with RFBM = x87 only / SSE only writes just those ranges (MXCSR with SSE), XSTATE_BV bits outside RFBM kept', () => {
  const f = fpuState(5);
  for (const rfbm of [1, 2]) {
    x.reset({ extra: { fpu: f, gprs: { rax: BigInt(rfbm), rdx: 0n, rbx: BigInt(AREA_A), rdi: BigInt(AREA_B) } } });
    x.vm.ram.fill(0xcc, AREA_B, AREA_B + 576);
    assert.equal(x.run([...I.fxsave64, ...I.xsave64()]).vector, undefined);
    const fx = x.area(AREA_A, 512), xs = x.area(AREA_B);
    const x87 = (k: number) => k < 24 || (k >= 32 && k < 160);
    const sse = (k: number) => (k >= 24 && k < 32) || (k >= 160 && k < 416);
    for (let k = 0; k < 512; k++) {
      const mine = rfbm === 1 ? x87(k) : sse(k);
      assert.equal(xs[k], mine ? fx[k] : 0xcc, `rfbm ${rfbm} byte ${k}`);
    }
    assert.equal(xs[512], 0xcc | rfbm);
  }
});

test('XRSTOR: XSTATE_BV bits clear restore the init state (MXCSR still loaded); RFBM bits clear leave state alone', () => {
  const img = new Uint8Array(576);
  new DataView(img.buffer).setUint32(24, 0x1f00, true); // MXCSR in the image
  x.vm.ram.set(img, AREA_A);
  x.reset({ extra: { fpu: fpuState(7), gprs: { rax: 3n, rdx: 0n, rsi: BigInt(AREA_A) } } });
  assert.equal(x.run(I.xrstor64()).vector, undefined);
  const f = x.vm.cpu.getState(State.FPU).fpu!;
  assert.deepEqual([f.fcw, f.fsw, f.ftw, f.fop, f.fip, f.fdp, f.mxcsr], [0x37f, 0, 0, 0, 0n, 0n, 0x1f00]);
  assert.ok(f.st.every((r) => r.every((b) => b === 0)) && f.xmm.every((r) => r.every((b) => b === 0)));
  // RFBM = x87 only: SSE (XMM and MXCSR) untouched.
  const before = fpuState(7);
  x.reset({ extra: { fpu: before, gprs: { rax: 1n, rdx: 0n, rsi: BigInt(AREA_A) } } });
  assert.equal(x.run(I.xrstor64()).vector, undefined);
  const f2 = x.vm.cpu.getState(State.FPU).fpu!;
  assert.deepEqual([f2.fcw, f2.mxcsr, f2.xmm], [0x37f, before.mxcsr, before.xmm]);
  // XSAVE then reports both components not in use; XSAVEOPT leaves their ranges unwritten.
  x.reset({ extra: { gprs: { rax: 3n, rdx: 0n, rsi: BigInt(AREA_A), rdi: BigInt(AREA_B) } } });
  x.vm.ram.fill(0xcc, AREA_B, AREA_B + 576);
  assert.equal(x.run([...I.xrstor64(), ...I.xsaveopt64()]).vector, undefined);
  const xs = x.area(AREA_B);
  assert.equal(xs[512], 0xcc & ~3);
  assert.deepEqual([...xs.subarray(0, 24)], new Array(24).fill(0xcc));
  assert.equal(new DataView(xs.buffer).getUint32(24, true), 0x1f00, 'MXCSR is still saved');
});

test('XRSTOR #GP: XCOMP_BV nonzero, header bytes 16-23 nonzero, XSTATE_BV outside XCR0, reserved MXCSR bits (state unchanged)', () => {
  const bad: [string, (dv: DataView) => void, bigint][] = [
    ['XCOMP_BV bit 0', (dv) => dv.setUint8(520, 1), 3n],
    ['XCOMP_BV bit 63 (compacted form)', (dv) => dv.setUint8(527, 0x80), 3n],
    ['header byte 16', (dv) => dv.setUint8(528, 1), 3n],
    ['XSTATE_BV bit 2', (dv) => dv.setUint8(512, 7), 3n],
    ['XSTATE_BV bit 1 with XCR0 = 1', (dv) => dv.setUint8(512, 3), 1n],
    ['MXCSR bit 16', (dv) => dv.setUint32(24, 0x11f80, true), 3n],
    ['MXCSR bit 16 with XSTATE_BV[1] = 0', (dv) => { dv.setUint32(24, 0x11f80, true); dv.setUint8(512, 1); }, 3n],
  ];
  for (const [what, mutate, xcr0] of bad) {
    const img = new Uint8Array(576);
    const dv = new DataView(img.buffer);
    dv.setUint16(0, 0x37f, true); dv.setUint32(24, 0x1f80, true); dv.setUint8(512, 3);
    mutate(dv);
    x.vm.ram.set(img, AREA_A);
    const f = fpuState(2);
    x.reset({ xcr0, extra: { fpu: f, gprs: { rax: 3n, rdx: 0n, rsi: BigInt(AREA_A) } } });
    assert.equal(x.run(I.xrstor64()).vector, GP, what);
    assert.deepEqual(x.vm.cpu.getState(State.FPU).fpu!.xmm, f.xmm, `${what}: state unchanged`);
  }
  // Header bytes 24-63 are not checked (as on the host); MXCSR is not read with RFBM = x87.
  const img = new Uint8Array(576);
  const dv = new DataView(img.buffer);
  dv.setUint16(0, 0x37f, true); dv.setUint32(24, 0x11f80, true); dv.setUint8(512, 1); dv.setUint8(540, 0xff);
  x.vm.ram.set(img, AREA_A);
  x.reset({ extra: { gprs: { rax: 1n, rdx: 0n, rsi: BigInt(AREA_A) } } });
  assert.equal(x.run(I.xrstor64()).vector, undefined);
});

test('setState/getState of xcr0 follow XSETBV\'s rule; capability xcr0Mask = 3', () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  assert.equal(hv.capability().arch.xcr0Mask, 3n);
  assert.equal(BigInt(hv.capability().arch.cr4Mask) & (1n << 18n), 1n << 18n, 'CR4.OSXSAVE settable');
  hv.close();
  for (const ok of [1n, 3n]) {
    x.vm.cpu.setState({ crs: { xcr0: ok } });
    assert.equal(x.vm.cpu.getState(State.CRS).crs!.xcr0, ok);
  }
  for (const bad of [0n, 2n, 7n, 1n << 32n | 3n]) {
    assert.throws(() => x.vm.cpu.setState({ crs: { xcr0: bad } }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL', bad.toString(16));
  }
});
