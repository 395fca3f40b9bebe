/**
 * Every state group round-trips through KVM: set distinctive values, read them back, compare
 * field by field. The starting point is a valid long-mode state (KVM checks CR0/CR4/EFER and the
 * segments together), and each value chosen is one KVM keeps as given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPR_NAMES, SEG_NAMES, State } from '../../src/index.js';
import type { Segment, VcpuState } from '../../src/index.js';
import { skipUnlessKvm } from '../support.js';
import { longGuest } from './kvm-guest.js';

const skip = skipUnlessKvm();

function withGuest(fn: (g: ReturnType<typeof longGuest>) => void): void {
  const g = longGuest('kvm-spin');
  try {
    fn(g);
  } finally {
    g.done();
  }
}

test('GPRS: all 16 registers, RIP and RFLAGS', { skip }, () => withGuest(({ cpu }) => {
  const gprs = {} as VcpuState['gprs'];
  GPR_NAMES.forEach((n, i) => { gprs[n] = BigInt.asUintN(64, 0x1111111111111111n * BigInt(i + 1)) ^ 0x8000000000000000n; });
  gprs.rip = 0x12345n;
  gprs.rflags = 0x2n | 0x1n | 0x4n | 0x40n | 0x80n | 0x800n | 0x400n; // CF PF ZF SF OF DF
  cpu.setState({ gprs });
  assert.deepEqual(cpu.getState(State.GPRS).gprs, gprs);
}));

test('SEGS: the six segment registers, GDT, IDT, LDT and TR', { skip }, () => withGuest(({ cpu }) => {
  const before = cpu.getState(State.SEGS).segs!;
  const data = (selector: number, base: bigint): Segment => ({
    selector, base, limit: 0xfffff, type: 3, s: 1, dpl: 0, p: 1, avl: 1, l: 0, def: 1, g: 0,
  });
  const segs = {
    ...before,
    ds: data(0x10, 0x1000n), es: data(0x10, 0x2000n),
    fs: data(0x10, 0x7fff00001000n), gs: data(0x10, 0xffff800000002000n),
    gdt: { ...before.gdt, base: 0x106000n, limit: 0x7f },
    idt: { ...before.idt, base: 0x130000n, limit: 0xfff },
    ldt: { selector: 0x38, base: 0x140000n, limit: 0x17, type: 2, s: 0, dpl: 0, p: 1, avl: 0, l: 0, def: 0, g: 0 },
    tr: { ...before.tr, base: 0x150000n, limit: 0x2067 },
  };
  cpu.setState({ segs });
  const after = cpu.getState(State.SEGS).segs!;
  for (const name of SEG_NAMES) {
    const want = segs[name], got = after[name];
    const fields = name === 'gdt' || name === 'idt' ? (['base', 'limit'] as const) : (Object.keys(want) as (keyof Segment)[]);
    for (const f of fields) assert.equal(got[f], want[f], `${name}.${f}`);
  }
}));

test('CRS: CR0 CR2 CR3 CR4 CR8 and XCR0', { skip }, () => withGuest(({ cpu }) => {
  const crs = cpu.getState(State.CRS).crs!;
  const want = {
    cr0: crs.cr0 | 0x2n /* MP */ | 0x40000n /* AM */,
    cr2: 0xdeadbeef000n,
    cr3: 0x101000n,
    cr4: crs.cr4 | 0x40000n /* OSXSAVE */ | 0x80n /* PGE */,
    cr8: 7n,
    xcr0: 0x3n,
  };
  cpu.setState({ crs: want });
  assert.deepEqual(cpu.getState(State.CRS).crs, want);
}));

test('DRS: DR0-DR3, DR6, DR7', { skip }, () => withGuest(({ cpu }) => {
  const drs = { dr0: 0x1000n, dr1: 0x2000n, dr2: 0x7fff0000n, dr3: 0xffff800000001000n, dr6: 0xffff4ff1n, dr7: 0x4a5n };
  cpu.setState({ drs });
  assert.deepEqual(cpu.getState(State.DRS).drs, drs);
}));

test('MSRS: EFER STAR LSTAR CSTAR SFMASK KERNELGSBASE SYSENTER_CS/ESP/EIP PAT', { skip }, () => withGuest(({ cpu }) => {
  const efer = cpu.getState(State.MSRS).msrs!.efer | 0x800n; // + NXE
  const msrs = {
    efer, star: 0x0023001000000000n, lstar: 0xffffffff81000000n, cstar: 0xffffffff81000100n,
    sfmask: 0x47700n, kernelgsbase: 0xffff888000001000n, sysenterCs: 0x10n, sysenterEsp: 0xffffc90000004000n,
    sysenterEip: 0xffffffff81000200n, pat: 0x0007040600070406n,
  };
  cpu.setState({ msrs });
  const got = cpu.getState(State.MSRS).msrs!;
  for (const k of Object.keys(msrs) as (keyof typeof msrs)[]) assert.equal(got[k], msrs[k], k);
}));

test('MSRS: TSC', { skip }, (t) => withGuest(({ cpu }) => {
  const msrs = { tsc: 0x123456789n };
  cpu.setState({ msrs });
  const got = cpu.getState(State.MSRS).msrs!;
  // The TSC keeps counting: it reads back at or a little past the value set.
  if (got.tsc >= msrs.tsc && got.tsc - msrs.tsc < 100_000_000_000n) return;
  // The PVM module runs the guest's RDTSC natively and cannot offset it: KVM ignores the write.
  const again = cpu.getState(State.MSRS).msrs!.tsc;
  assert.ok(again > got.tsc, 'the TSC at least counts');
  t.skip(`host does not virtualize the TSC (set ${msrs.tsc}, read ${got.tsc})`);
}));

test('INTR: interrupt shadow, window exiting, pending event', { skip }, () => withGuest(({ cpu }) => {
  assert.deepEqual(cpu.getState(State.INTR).intr, { intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false });
  cpu.setState({ intr: { intShadow: true, intWindowExiting: true, nmiWindowExiting: true } });
  assert.deepEqual(cpu.getState(State.INTR).intr, { intShadow: true, intWindowExiting: true, nmiWindowExiting: true, evtPending: false });
  cpu.inject({ type: 'interrupt', vector: 0x30 });
  assert.equal(cpu.getState(State.INTR).intr!.evtPending, true);
  cpu.setState({ intr: { intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false } });
  assert.deepEqual(cpu.getState(State.INTR).intr, { intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false });
}));

test('FPU: x87 control/status/tag/opcode/pointers, MXCSR, ST0-7, XMM0-15', { skip }, () => withGuest(({ cpu, hv }) => {
  const st = Array.from({ length: 8 }, (_, i) => Uint8Array.from({ length: 10 }, (_, j) => (i * 16 + j + 1) & 0xff));
  const xmm = Array.from({ length: 16 }, (_, i) => Uint8Array.from({ length: 16 }, (_, j) => (0x80 + i * 7 + j) & 0xff));
  const fpu = {
    fcw: 0x27f, fsw: 0x3800, ftw: 0xc3, fop: 0x1d9, fip: 0x401000n, fdp: 0x602000n,
    mxcsr: 0x1fa0, mxcsrMask: hv.capability().arch.mxcsrMask, st, xmm,
  };
  cpu.setState({ fpu });
  const got = cpu.getState(State.FPU).fpu!;
  for (const k of ['fcw', 'fsw', 'ftw', 'fop', 'fip', 'fdp', 'mxcsr', 'mxcsrMask'] as const) assert.equal(got[k], fpu[k], k);
  st.forEach((r, i) => assert.deepEqual([...got.st[i]!], [...r], `st${i}`));
  xmm.forEach((r, i) => assert.deepEqual([...got.xmm[i]!], [...r], `xmm${i}`));
}));

test('ALL: a full getState feeds setState unchanged', { skip }, () => withGuest(({ cpu }) => {
  const all = cpu.getState(State.ALL);
  cpu.setState(all);
  const again = cpu.getState(State.ALL);
  const { msrs: m1, ...rest1 } = all;
  const { msrs: m2, ...rest2 } = again;
  assert.deepEqual(rest2, rest1);
  assert.deepEqual({ ...m2, tsc: 0n }, { ...m1, tsc: 0n });
}));
