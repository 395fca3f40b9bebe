/**
 * assistMem on x87 and SSE/MMX instructions, over a FakeCpu (no backend, no guest): the
 * instruction runs through the same layers as on the soft CPU (src/x86/sse, src/x86/x87-exec)
 * over the assist's context, loaded from the fpu/crs groups. Checked here: register results and
 * the fpu fields written back, the handler's accesses (sizes, order: operands wider than 8 bytes
 * in ascending pieces of 8 bytes, the rest 4, 2, 1), MXCSR/FSW flags, and the faults (#GP alignment, #UD/#NM
 * from CR0/CR4, #XM) reported as AssistFault with the state left as the CPU would leave it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryExit, MemRequest } from '../../src/api/types.js';
import { VmmError } from '../../src/api/errors.js';
import { assistMem, AssistFault } from '../../src/x86/assist/index.js';
import { FakeCpu, longModeCpu, realModeCpu } from './fake-cpu.js';

const exitState = { rflags: 2n, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false };
function memExit(gpa: number, write: boolean, size: number, instBytes: number[]): MemoryExit {
  return { reason: 'memory', gpa, write, size, prot: write ? 'w' : 'r', instBytes: new Uint8Array(instBytes), exitState };
}

const MMIO = 0x200000;

class Device {
  readonly bytes = new Uint8Array(0x1000);
  readonly log: string[] = [];
  constructor() {
    for (let i = 0; i < this.bytes.length; i++) this.bytes[i] = (i * 7 + 3) & 0xff;
  }
  handle = (r: MemRequest): void => {
    const off = r.gpa - MMIO;
    this.log.push(`${r.write ? 'w' : 'r'} ${off.toString(16)}/${r.size}`);
    if (r.write) this.bytes.set(r.data.subarray(0, r.size), off);
    else r.data.set(this.bytes.subarray(off, off + r.size));
  };
  at(off: number, n: number): number[] {
    return Array.from(this.bytes.subarray(off, off + n));
  }
}

/** A long-mode CPU with code at 0x1000 and rbx pointing into the MMIO page. */
function setup(code: number[], rbxOff: number): { cpu: FakeCpu; dev: Device } {
  const cpu = longModeCpu();
  cpu.code(0x1000, code);
  cpu.setRegs({ rbx: BigInt(MMIO + rbxOff) });
  return { cpu, dev: new Device() };
}
const bytes = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
const faultOf = (vector: number, errorCode?: number) => (e: unknown): boolean =>
  e instanceof AssistFault && e.vector === vector && (errorCode === undefined || e.errorCode === errorCode);

test('MOVDQU xmm0,[mmio]: two 8-byte reads in order; xmm0 written back through the fpu group', () => {
  const { cpu, dev } = setup([0xf3, 0x0f, 0x6f, 0x03], 0x13);
  const sets = cpu.setCalls;
  assistMem(cpu, memExit(MMIO + 0x13, false, 8, [0xf3, 0x0f, 0x6f, 0x03]), dev.handle);
  assert.deepEqual(dev.log, ['r 13/8', 'r 1b/8']);
  assert.deepEqual(Array.from(cpu.state.fpu.xmm[0]!), dev.at(0x13, 16));
  assert.equal(cpu.gprs.rip, 0x1004n);
  assert.equal(cpu.setCalls, sets + 1, 'registers and fpu in one setState');
});

test('MOVAPS [mmio],xmm1: ascending 8-byte writes; misaligned: #GP(0) before any access, nothing changed', () => {
  const { cpu, dev } = setup([0x0f, 0x29, 0x0b], 0x20);
  cpu.state.fpu.xmm[1] = bytes(16, (i) => 0xa0 + i);
  assistMem(cpu, memExit(MMIO + 0x28, true, 8, [0x0f, 0x29, 0x0b]), dev.handle);
  assert.deepEqual(dev.log, ['w 20/8', 'w 28/8']);
  assert.deepEqual(dev.at(0x20, 16), Array.from(cpu.state.fpu.xmm[1]!));
  assert.equal(cpu.gprs.rip, 0x1003n);

  cpu.code(0x1000, [0x0f, 0x29, 0x0b]);
  cpu.setRegs({ rbx: BigInt(MMIO + 0x38) });
  dev.log.length = 0;
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x38, true, 8, [0x0f, 0x29, 0x0b]), dev.handle), faultOf(13, 0));
  assert.deepEqual(dev.log, []);
  assert.equal(cpu.gprs.rip, 0x1000n);
});

test('SSE availability as on the CPU: CR0.EM or CR4.OSFXSR clear -> #UD, CR0.TS -> #NM; MMX with CR0.EM -> #UD', () => {
  const code = [0xf3, 0x0f, 0x6f, 0x03];
  const cases: [bigint, bigint | undefined, number][] = [[1n << 2n, undefined, 6], [1n << 3n, undefined, 7], [0n, 0n, 6]];
  for (const [cr0Bits, cr4, vector] of cases) {
    const { cpu, dev } = setup(code, 0);
    cpu.state.crs = { ...cpu.state.crs, cr0: cpu.state.crs.cr0 | cr0Bits, ...(cr4 === undefined ? {} : { cr4 }) };
    assert.throws(() => assistMem(cpu, memExit(MMIO, false, 8, code), dev.handle), faultOf(vector));
    assert.deepEqual(dev.log, []);
    assert.equal(cpu.gprs.rip, 0x1000n);
  }
  const { cpu, dev } = setup([0x0f, 0x7f, 0x03], 0);
  cpu.state.crs = { ...cpu.state.crs, cr0: cpu.state.crs.cr0 | (1n << 2n) };
  assert.throws(() => assistMem(cpu, memExit(MMIO, true, 8, [0x0f, 0x7f, 0x03]), dev.handle), faultOf(6));
});

test('MOVQ [mmio],mm0: one 8-byte write of MMX register 0, and the x87 -> MMX transition (TOP 0, all tags valid)', () => {
  const { cpu, dev } = setup([0x0f, 0x7f, 0x03], 0x40);
  // TOP = 2: MMX register 0 (physical register 0) is ST(6).
  cpu.state.fpu.fsw = 2 << 11;
  cpu.state.fpu.st[6] = bytes(10, (i) => 0x51 + i);
  assistMem(cpu, memExit(MMIO + 0x40, true, 8, [0x0f, 0x7f, 0x03]), dev.handle);
  assert.deepEqual(dev.log, ['w 40/8']);
  assert.deepEqual(dev.at(0x40, 8), [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58]);
  assert.equal(cpu.state.fpu.ftw, 0xff);
  assert.equal((cpu.state.fpu.fsw >> 11) & 7, 0);
  assert.deepEqual(Array.from(cpu.state.fpu.st[0]!), [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a], 'ST(0) is physical 0 now');
});

test('PCMPEQB xmm2,[mmio] and MOVNTI [mmio],eax; MASKMOVDQU writes only the selected bytes, one byte each', () => {
  const { cpu, dev } = setup([0x66, 0x0f, 0x74, 0x13], 0x60);
  cpu.state.fpu.xmm[2] = bytes(16, (i) => (i % 3 === 0 ? ((0x60 + i) * 7 + 3) : 0));
  assistMem(cpu, memExit(MMIO + 0x60, false, 8, [0x66, 0x0f, 0x74, 0x13]), dev.handle);
  assert.deepEqual(Array.from(cpu.state.fpu.xmm[2]!), Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 0xff : 0)));

  cpu.code(0x1000, [0x0f, 0xc3, 0x03]);
  cpu.setRegs({ rax: 0x1122334455667788n });
  dev.log.length = 0;
  assistMem(cpu, memExit(MMIO + 0x60, true, 4, [0x0f, 0xc3, 0x03]), dev.handle);
  assert.deepEqual(dev.log, ['w 60/4']);
  assert.deepEqual(dev.at(0x60, 4), [0x88, 0x77, 0x66, 0x55]);

  cpu.code(0x1000, [0x66, 0x0f, 0xf7, 0xc1]);
  cpu.setRegs({ rdi: BigInt(MMIO + 0x80) });
  cpu.state.fpu.xmm[0] = bytes(16, (i) => 0xc0 + i);
  cpu.state.fpu.xmm[1] = bytes(16, (i) => (i === 3 || i === 4 || i === 15 ? 0x80 : 0x7f));
  dev.log.length = 0;
  assistMem(cpu, memExit(MMIO + 0x83, true, 1, [0x66, 0x0f, 0xf7, 0xc1]), dev.handle);
  assert.deepEqual(dev.log, ['w 83/1', 'w 84/1', 'w 8f/1']);
  assert.deepEqual([dev.bytes[0x83], dev.bytes[0x84], dev.bytes[0x8f], dev.bytes[0x85]], [0xc3, 0xc4, 0xcf, (0x85 * 7 + 3) & 0xff]);
});

test('x87 FLD m64 / FISTP m32 / FLD m80 / FSTP m80 on MMIO: one access per operand up to 8 bytes, 8+2 for m80; FSW, tags, FIP/FDP/FOP', () => {
  const { cpu, dev } = setup([0xdd, 0x03], 0x100);
  dev.bytes.set([0, 0, 0, 0, 0, 0, 0xf8, 0x3f], 0x100);   // 1.5 as a double
  assistMem(cpu, memExit(MMIO + 0x100, false, 8, [0xdd, 0x03]), dev.handle);
  const f = cpu.state.fpu;
  assert.deepEqual(dev.log, ['r 100/8']);
  assert.deepEqual(Array.from(f.st[0]!), [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x3f]);
  assert.equal((f.fsw >> 11) & 7, 7, 'TOP after the push');
  assert.equal(f.ftw, 0x80);
  assert.equal(f.fip, 0x1000n);
  assert.equal(f.fdp, BigInt(MMIO + 0x100));
  assert.equal(f.fop, 0x503);

  // FIST rounds 1.5 to 2 (nearest even), inexact: PE set, C1 = 1 (rounded up); FISTP pops.
  cpu.code(0x1002, [0xdb, 0x5b, 0x10]);
  dev.log.length = 0;
  assistMem(cpu, memExit(MMIO + 0x110, true, 4, [0xdb, 0x5b, 0x10]), dev.handle);
  assert.deepEqual(dev.log, ['w 110/4']);
  assert.deepEqual(dev.at(0x110, 4), [2, 0, 0, 0]);
  assert.equal(cpu.state.fpu.fsw & 0x20, 0x20, 'PE');
  assert.equal(cpu.state.fpu.fsw & 0x200, 0x200, 'C1: rounded up');
  assert.equal(cpu.state.fpu.ftw, 0);
  assert.equal(cpu.gprs.rip, 0x1005n);

  cpu.code(0x1005, [0xdb, 0x2b]);
  const ext = [1, 2, 3, 4, 5, 6, 7, 0x87, 0x01, 0x40];
  dev.bytes.set(ext, 0x100);
  dev.log.length = 0;
  assistMem(cpu, memExit(MMIO + 0x100, false, 8, [0xdb, 0x2b]), dev.handle);
  assert.deepEqual(dev.log, ['r 100/8', 'r 108/2']);
  assert.deepEqual(Array.from(cpu.state.fpu.st[0]!), ext);

  cpu.code(0x1007, [0xdb, 0x7b, 0x30]);
  dev.log.length = 0;
  assistMem(cpu, memExit(MMIO + 0x130, true, 8, [0xdb, 0x7b, 0x30]), dev.handle);
  assert.deepEqual(dev.log, ['w 130/8', 'w 138/2']);
  assert.deepEqual(dev.at(0x130, 10), ext);
  assert.equal(cpu.state.fpu.ftw, 0);
});

test('FNSTENV to MMIO: a 28-byte image in 8+8+8+4 pieces; FLDCW from MMIO; x87 with CR0.TS -> #NM', () => {
  const { cpu, dev } = setup([0xd9, 0x33], 0x200);
  cpu.state.fpu.fcw = 0x27f;
  cpu.state.fpu.fsw = 0x0021;
  assistMem(cpu, memExit(MMIO + 0x200, true, 8, [0xd9, 0x33]), dev.handle);
  assert.deepEqual(dev.log, ['w 200/8', 'w 208/8', 'w 210/8', 'w 218/4']);
  assert.deepEqual(dev.at(0x200, 8), [0x7f, 0x02, 0xff, 0xff, 0x21, 0x00, 0xff, 0xff]);
  assert.equal(cpu.state.fpu.fcw, 0x27f | 0x3f, 'FNSTENV masks every exception');

  cpu.code(0x1002, [0xd9, 0x6b, 0x40]);
  dev.bytes.set([0x7f, 0x0c], 0x240);
  assistMem(cpu, memExit(MMIO + 0x240, false, 2, [0xd9, 0x6b, 0x40]), dev.handle);
  assert.equal(cpu.state.fpu.fcw, 0xc7f);

  cpu.code(0x1005, [0xdd, 0x03]);
  cpu.state.crs = { ...cpu.state.crs, cr0: cpu.state.crs.cr0 | (1n << 3n) };
  dev.log.length = 0;
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x200, false, 8, [0xdd, 0x03]), dev.handle), faultOf(7));
  assert.deepEqual(dev.log, []);
});

test('ADDPS xmm0,[mmio] with IM unmasked and a signalling NaN: MXCSR.IE set and written back, #XM, xmm0 unchanged', () => {
  const { cpu, dev } = setup([0x0f, 0x58, 0x03], 0x300);
  dev.bytes.set([1, 0, 0xa0, 0x7f], 0x300);   // lane 0: an SNaN
  cpu.state.fpu.mxcsr = 0x1f80 & ~0x80;
  const before = Array.from(cpu.state.fpu.xmm[0]!);
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x300, false, 8, [0x0f, 0x58, 0x03]), dev.handle), faultOf(19));
  assert.equal(cpu.state.fpu.mxcsr, 0x1f01);
  assert.deepEqual(Array.from(cpu.state.fpu.xmm[0]!), before);
  assert.equal(cpu.gprs.rip, 0x1000n);
  // With CR4.OSXMMEXCPT clear the same exception is #UD.
  cpu.state.fpu.mxcsr = 0x1f80 & ~0x80;
  cpu.state.crs = { ...cpu.state.crs, cr4: cpu.state.crs.cr4 & ~(1n << 10n) };
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x300, false, 8, [0x0f, 0x58, 0x03]), dev.handle), faultOf(6));
});

test('a 16-byte operand across RAM and MMIO: the RAM half from RAM, one 8-byte handler read for the MMIO half', () => {
  const { cpu, dev } = setup([0xf3, 0x0f, 0x6f, 0x03], 0);
  cpu.setRegs({ rbx: BigInt(MMIO - 8) });
  cpu.ram.set([9, 8, 7, 6, 5, 4, 3, 2], MMIO - 8);
  assistMem(cpu, memExit(MMIO, false, 8, [0xf3, 0x0f, 0x6f, 0x03]), dev.handle);
  assert.deepEqual(dev.log, ['r 0/8']);
  assert.deepEqual(Array.from(cpu.state.fpu.xmm[0]!), [9, 8, 7, 6, 5, 4, 3, 2, ...dev.at(0, 8)]);
});

test('an SSE instruction that does not touch the exit GPA is refused (EFAULT), state unchanged', () => {
  const { cpu, dev } = setup([0xf3, 0x0f, 0x6f, 0x03], 0x400);
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x800, false, 8, [0xf3, 0x0f, 0x6f, 0x03]), dev.handle),
    (e: unknown) => e instanceof VmmError && e.code === 'EFAULT' && !(e instanceof AssistFault));
  assert.equal(cpu.gprs.rip, 0x1000n);
  assert.deepEqual(Array.from(cpu.state.fpu.xmm[0]!), new Array(16).fill(0));
});

test('an access crossing from MMIO into a not-present page: #PF on the second page before any handler call (SSE, x87, integer)', () => {
  // longModeCpu maps 4 MiB: 0x3ff000 is MMIO, 0x400000 is not present.
  const cases: [number[], number, boolean][] = [
    [[0x0f, 0x11, 0x03], 0x3ffff8, true],          // movups [rbx],xmm0: 16 bytes
    [[0xdb, 0x3b], 0x3ffffa, true],                // fstp tbyte [rbx]: 10 bytes
    [[0xdd, 0x03], 0x3ffffc, false],               // fld qword [rbx]
    [[0x48, 0x89, 0x03], 0x3ffffc, true],          // mov [rbx],rax
  ];
  for (const [code, at, write] of cases) {
    const { cpu, dev } = setup(code, 0);
    cpu.setRegs({ rbx: BigInt(at) });
    cpu.state.fpu.ftw = 0x80;
    cpu.state.fpu.fsw = 7 << 11;
    const before = structuredClone(cpu.state.fpu);
    assert.throws(() => assistMem(cpu, memExit(at, write, 4, code), dev.handle),
      (e: unknown) => e instanceof AssistFault && e.vector === 14 && e.cr2 === 0x400000 && e.errorCode === (write ? 2 : 0),
      `#PF for ${code.map((b) => b.toString(16)).join(' ')}`);
    assert.deepEqual(dev.log, [], 'no handler call');
    assert.deepEqual(cpu.state.fpu, before, 'fpu state unchanged');
    assert.equal(cpu.gprs.rip, 0x1000n);
  }
});

test('LDMXCSR/STMXCSR/FXSAVE/FXRSTOR on MMIO: the backend\'s MXCSR_MASK from the fpu group decides #GP and fills the image', () => {
  const { cpu, dev } = setup([0x0f, 0xae, 0x13], 0x40);   // ldmxcsr [rbx]
  dev.bytes.set([0x80, 0x7f, 0x02, 0x00], 0x40);           // 0x27f80: bit 17 set
  cpu.state.fpu.mxcsrMask = 0xffff;
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x40, false, 4, [0x0f, 0xae, 0x13]), dev.handle), faultOf(13, 0));
  assert.equal(cpu.state.fpu.mxcsr, 0x1f80);
  cpu.state.fpu.mxcsrMask = 0x2ffff;
  assistMem(cpu, memExit(MMIO + 0x40, false, 4, [0x0f, 0xae, 0x13]), dev.handle);
  assert.equal(cpu.state.fpu.mxcsr, 0x27f80);

  cpu.code(0x1003, [0x0f, 0xae, 0x5b, 0x08]);             // stmxcsr [rbx+8]
  assistMem(cpu, memExit(MMIO + 0x48, true, 4, [0x0f, 0xae, 0x5b, 0x08]), dev.handle);
  assert.deepEqual(dev.at(0x48, 4), [0x80, 0x7f, 0x02, 0x00]);

  cpu.code(0x1007, [0x48, 0x0f, 0xae, 0x43, 0x40]);       // fxsave64 [rbx+0x40] (0x200080)
  cpu.state.fpu.xmm[15] = bytes(16, (i) => 0xe0 + i);
  dev.log.length = 0;
  assistMem(cpu, memExit(MMIO + 0x80, true, 8, [0x48, 0x0f, 0xae, 0x43, 0x40]), dev.handle);
  assert.equal(dev.log.length, 64);
  assert.deepEqual(dev.at(0x80 + 24, 8), [0x80, 0x7f, 0x02, 0x00, 0xff, 0xff, 0x02, 0x00], 'MXCSR, MXCSR_MASK');
  assert.deepEqual(dev.at(0x80 + 160 + 15 * 16, 16), Array.from(cpu.state.fpu.xmm[15]!));

  cpu.code(0x100c, [0x48, 0x0f, 0xae, 0x4b, 0x40]);       // fxrstor64 [rbx+0x40]
  dev.bytes[0x80 + 160] = 0x5a;                            // xmm0 byte 0
  assistMem(cpu, memExit(MMIO + 0x80, false, 8, [0x48, 0x0f, 0xae, 0x4b, 0x40]), dev.handle);
  assert.equal(cpu.state.fpu.xmm[0]![0], 0x5a);
  assert.equal(cpu.gprs.rip, 0x1011n);
  // Misaligned FXSAVE: #GP(0) before any access.
  cpu.code(0x1011, [0x0f, 0xae, 0x43, 0x48]);              // fxsave [rbx+0x48]
  dev.log.length = 0;
  assert.throws(() => assistMem(cpu, memExit(MMIO + 0x88, true, 8, [0x0f, 0xae, 0x43, 0x48]), dev.handle), faultOf(13, 0));
  assert.deepEqual(dev.log, []);
});

test('FNSTENV in real mode to MMIO: the 14-byte layout with linear pointers, as 8+4+2 pieces', () => {
  const cpu = realModeCpu();
  cpu.code(0x1000, [0xd9, 0x36, 0x10, 0x00]);              // fnstenv [0x10], DS = 0x8000 (MMIO at 0x80000)
  cpu.state.segs = { ...cpu.state.segs, ds: { ...cpu.state.segs.ds, selector: 0x8000, base: 0x80000n } };
  Object.assign(cpu.state.fpu, { fcw: 0x37f, fsw: 0x3800, ftw: 0x80, fop: 0x123, fip: 0x1234n, fdp: 0x10n });
  const log: string[] = [];
  const dev = new Uint8Array(0x100);
  assistMem(cpu, memExit(0x80010, true, 8, [0xd9, 0x36, 0x10, 0x00]), (r) => {
    log.push(`w ${(r.gpa - 0x80000).toString(16)}/${r.size}`);
    dev.set(r.data, r.gpa - 0x80000);
  });
  assert.deepEqual(log, ['w 10/8', 'w 18/4', 'w 1c/2']);
  const words = Array.from({ length: 7 }, (_, k) => dev[0x10 + 2 * k]! | (dev[0x11 + 2 * k]! << 8));
  // FCW, FSW, full tag word (ST(0) = physical 7 holds +0: tag 01; the rest empty), IP, IP 19:16 | FOP, DP, DP 19:16.
  assert.deepEqual(words, [0x37f, 0x3800, 0x7fff, 0x1234, 0x0123, 0x0010, 0x8000]);
  assert.equal(cpu.state.fpu.fcw, 0x37f, 'every exception was already masked');
  assert.equal(cpu.gprs.rip, 0x1004n);
});

test('forms the model lacks (AES-NI, VEX) with an MMIO operand are not emulated (ENOTSUP), not #UD: the exiting CPU ran them', () => {
  for (const code of [[0x66, 0x0f, 0x38, 0xdc, 0x03], [0xc5, 0xf9, 0x6f, 0x03]]) {
    const { cpu, dev } = setup(code, 0);
    assert.throws(() => assistMem(cpu, memExit(MMIO, false, 8, code), dev.handle),
      (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && !(e instanceof AssistFault), code.map((b) => b.toString(16)).join(' '));
    assert.deepEqual(dev.log, []);
    assert.equal(cpu.gprs.rip, 0x1000n);
  }
});
