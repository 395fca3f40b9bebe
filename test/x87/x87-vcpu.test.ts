/**
 * The x87 through a real soft vCPU (public API, 64-bit guests): arithmetic results in memory,
 * the register stack and tags as getState/FXSAVE/FNSTENV show them, masked stack faults,
 * unmasked exceptions raising #MF at the next waiting instruction (and not at FNSTSW), the
 * CR0.NE = 0 exit, and #NM for CR0.TS/EM (FWAIT only with TS and MP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { gprs, longMode, runLogged, setGate64, softVm, type SoftVm } from '../soft/vm.js';

const CODE = 0x10000, DATA = 0x20000, SRC = 0x21000, HANDLERS = 0x11000, IDT = 0x40000;
const CR0_MP = 1n << 1n, CR0_EM = 1n << 2n, CR0_TS = 1n << 3n, CR0_NE = 1n << 5n;

const movRdi = (v: number): number[] => [0x48, 0xc7, 0xc7, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movRsi = (v: number): number[] => [0x48, 0xc7, 0xc6, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const FNINIT = [0xdb, 0xe3], FLD1 = [0xd9, 0xe8], FLDZ = [0xd9, 0xee], FLDPI = [0xd9, 0xeb];
const FADDP = [0xde, 0xc1], FDIVP = [0xde, 0xf9], FSQRT = [0xd9, 0xfa], FWAIT = [0x9b], HLT = [0xf4];
const FSTP_M64_RDI = [0xdd, 0x1f], FNSTSW_AX = [0xdf, 0xe0], FNSTSW_RDI = [0xdd, 0x3f], FLDCW_RSI = [0xd9, 0x2e];
const FLD_M32_RSI = [0xd9, 0x06], FNSTENV_RDI = [0xd9, 0x37], FXSAVE_RDI_100 = [0x0f, 0xae, 0x87, 0x00, 0x01, 0x00, 0x00];
const INDEFINITE = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];

/** A VM whose #UD (6), #NM (7) and #MF (16) handlers log their vector to port 0xe9 and halt. */
function vmWith(code: number[], cr0Set = 0n, cr0Clear = 0n): SoftVm {
  const vm = softVm();
  vm.ram.set(code, CODE);
  for (const v of [6, 7, 16]) {
    setGate64(vm, IDT, v, HANDLERS + 0x10 * v);
    vm.ram.set([0xb0, v, 0xe6, 0xe9, 0xf4], HANDLERS + 0x10 * v); // mov al, v; out 0xe9, al; hlt
  }
  const st = longMode(vm, CODE);
  const cr0 = (st.crs!.cr0! | CR0_NE | cr0Set) & ~cr0Clear;
  vm.cpu.setState({ ...st, crs: { ...st.crs!, cr0 }, segs: { ...st.segs!, idt: { ...st.segs!.idt!, base: BigInt(IDT), limit: 0xfff } } });
  return vm;
}

const f64At = (vm: SoftVm, at: number): number => new DataView(vm.ram.buffer).getFloat64(at, true);
const u16At = (vm: SoftVm, at: number): number => new DataView(vm.ram.buffer).getUint16(at, true);

test('x87 guest: sqrt(1 + 1) and pi/1 computed in the guest and stored as doubles', () => {
  const vm = vmWith([...FNINIT, ...movRdi(DATA), ...FLD1, ...FLD1, ...FADDP, ...FSQRT, ...FSTP_M64_RDI,
    ...movRdi(DATA + 8), ...FLDPI, ...FLD1, ...FDIVP, ...FSTP_M64_RDI, ...FNSTSW_AX, ...HLT]);
  const r = runLogged(vm.cpu);
  assert.equal(r.end.reason, 'halted');
  assert.equal(f64At(vm, DATA), Math.SQRT2);
  assert.equal(f64At(vm, DATA + 8), Math.PI);
  // Empty stack again (TOP 0), PE from the roundings, no exception pending.
  assert.equal(Number(gprs(vm.cpu).rax & 0xffffn), 0x20);
  assert.equal(vm.cpu.getState(State.FPU).fpu!.ftw, 0);
});

test('x87 guest: a ninth push overflows the stack (masked: IE, SF, C1 and the indefinite in ST0)', () => {
  const pushes = Array.from({ length: 9 }, () => FLD1).flat();
  const vm = vmWith([...FNINIT, ...pushes, ...FNSTSW_AX, ...HLT]);
  assert.equal(runLogged(vm.cpu).end.reason, 'halted');
  assert.equal(Number(gprs(vm.cpu).rax & 0xffffn), 0x3800 | 0x200 | 0x40 | 0x1, 'TOP 7, C1, SF, IE');
  const fpu = vm.cpu.getState(State.FPU).fpu!;
  assert.equal(fpu.ftw, 0xff);
  assert.deepEqual(Array.from(fpu.st[0]!), INDEFINITE);
  assert.deepEqual(Array.from(fpu.st[1]!), [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 'ST1 = 1.0');
});

test('x87 guest: an unmasked zero-divide raises #MF at the next waiting instruction, not at FNSTSW', () => {
  const code = [...FNINIT, ...movRsi(SRC), ...FLDCW_RSI, ...FLD1, ...FLDZ, ...FDIVP, ...movRdi(DATA), ...FNSTSW_RDI, ...FWAIT, ...HLT];
  const vm = vmWith(code);
  new DataView(vm.ram.buffer).setUint16(SRC, 0x37f & ~0x4, true); // ZE unmasked
  const r = runLogged(vm.cpu);
  assert.deepEqual(r.log, [16], '#MF delivered');
  assert.equal(u16At(vm, DATA), 0x8000 | 0x3000 | 0x80 | 0x4, 'FNSTSW ran: B, TOP 6, ES, ZE');
  const fwaitAt = CODE + code.length - FWAIT.length - HLT.length;
  assert.equal(new DataView(vm.ram.buffer).getBigUint64(Number(gprs(vm.cpu).rsp), true), BigInt(fwaitAt), 'fault on the FWAIT');
  const fpu = vm.cpu.getState(State.FPU).fpu!;
  assert.deepEqual(Array.from(fpu.st[1]!), [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 'destination left as it was (1.0), no pop');
});

test('x87 guest: with CR0.NE clear a pending exception ends the run with an invalid exit naming FERR#', () => {
  const code = [...FNINIT, ...movRsi(SRC), ...FLDCW_RSI, ...FLD1, ...FLDZ, ...FDIVP, ...FWAIT, ...HLT];
  const vm = vmWith(code, 0n, CR0_NE);
  new DataView(vm.ram.buffer).setUint16(SRC, 0x37f & ~0x4, true);
  const r = runLogged(vm.cpu);
  assert.equal(r.end.reason, 'invalid');
  if (r.end.reason !== 'invalid') return;
  assert.match(r.end.detail, /FERR#/);
  assert.equal(Number(gprs(vm.cpu).rip), CODE + code.length - FWAIT.length - HLT.length, 'RIP stays on the FWAIT');
});

test('x87 guest: CR0.TS or CR0.EM makes x87 instructions #NM; FWAIT faults only with TS and MP', () => {
  for (const [bits, code, expect] of [
    [CR0_TS, [...FLD1, ...HLT], [7]],
    [CR0_EM, [...FLD1, ...HLT], [7]],
    [CR0_TS, [...FWAIT, ...HLT], []],
    [CR0_TS | CR0_MP, [...FWAIT, ...HLT], [7]],
  ] as [bigint, number[], number[]][]) {
    const vm = vmWith(code, bits, bits & CR0_MP ? 0n : CR0_MP);
    const r = runLogged(vm.cpu);
    assert.deepEqual(r.log, expect, `CR0 bits 0x${bits.toString(16)}, code ${code.map((b) => b.toString(16)).join(' ')}`);
    assert.equal(r.end.reason, 'halted');
  }
});

test('x87 guest: FNSTENV rebuilds the full tag word; FXSAVE and getState keep the abridged tags', () => {
  const vm = vmWith([...FNINIT, ...movRsi(SRC), ...FLD_M32_RSI, ...FLDZ, ...FLD1, ...movRdi(DATA),
    ...FNSTENV_RDI, ...FXSAVE_RDI_100, ...HLT]);
  new DataView(vm.ram.buffer).setUint32(SRC, 0x7f800000, true); // +inf (single)
  assert.equal(runLogged(vm.cpu).end.reason, 'halted');
  // TOP = 5: physical 5 = 1.0 (valid 00), 6 = +0 (zero 01), 7 = inf (special 10), 0-4 empty (11).
  assert.equal(u16At(vm, DATA + 8), 0x3ff | (1 << 12) | (2 << 14), 'FNSTENV tag word');
  assert.equal(u16At(vm, DATA + 4) & 0x3800, 5 << 11, 'FNSTENV status word TOP');
  assert.equal(vm.ram[DATA + 0x100 + 4], 0xe0, 'FXSAVE abridged tags');
  const fpu = vm.cpu.getState(State.FPU).fpu!;
  assert.equal(fpu.ftw, 0xe0);
  assert.equal((fpu.fsw >>> 11) & 7, 5);
  assert.deepEqual(Array.from(fpu.st[2]!), [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f], 'ST2 = +inf');
});

test('x87 guest: a stack set through setState is the one the guest computes with', () => {
  const vm = vmWith([...movRdi(DATA), ...FADDP, ...FSTP_M64_RDI, ...FNSTSW_AX, ...HLT]);
  const st = Array.from({ length: 8 }, () => new Uint8Array(10));
  st[0]!.set([0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40]); // 2.0
  st[1]!.set([0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x40]); // 3.0
  const cur = vm.cpu.getState(State.FPU).fpu!;
  // TOP = 3: ST0 is physical 3, ST1 physical 4.
  vm.cpu.setState({ fpu: { ...cur, fcw: 0x37f, fsw: 3 << 11, ftw: (1 << 3) | (1 << 4), st } }, State.FPU);
  assert.equal(runLogged(vm.cpu).end.reason, 'halted');
  assert.equal(f64At(vm, DATA), 5);
  assert.equal(Number(gprs(vm.cpu).rax & 0x3800n) >>> 11, 5, 'two pops: TOP 5');
  assert.equal(vm.cpu.getState(State.FPU).fpu!.ftw, 0);
});

test('x87 guest: FISTTP (truncating store) is #UD when CPUID does not report SSE3', () => {
  // fld qword [rsi] (2.75); fisttp dword [rdi]; hlt
  const code = [...movRsi(SRC), ...movRdi(DATA), 0xdd, 0x06, 0xdb, 0x0f, ...HLT];
  const without = vmWith(code);
  without.cpu.configureCpuid(1, { del: { ecx: 1 } });
  new DataView(without.ram.buffer).setFloat64(SRC, -2.75, true);
  assert.deepEqual(runLogged(without.cpu).log, [6]);
  const withSse3 = vmWith(code); // the model reports SSE3
  new DataView(withSse3.ram.buffer).setFloat64(SRC, -2.75, true);
  const r = runLogged(withSse3.cpu);
  assert.deepEqual(r.log, []);
  assert.equal(new DataView(withSse3.ram.buffer).getInt32(DATA, true), -2, 'truncated toward zero');
});
