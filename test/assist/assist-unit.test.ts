/**
 * assistIo / assistMem over a FakeCpu (state in JS, RAM below 2 MiB, MMIO above): register and
 * memory effects, REP/DF/segment overrides/address sizes, routing between RAM and the handler,
 * budgets and fault reporting. The guest tests (mmio-guests, io-guests) check the same against a CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IoExit, IoRequest, MemoryExit, MemRequest } from '../../src/api/types.js';
import { VmmError } from '../../src/api/errors.js';
import { assistIo, assistMem, AssistFault, IO_REP_BUDGET, MEM_REP_BUDGET } from '../../src/x86/assist/index.js';
import { FakeCpu, longModeCpu, realModeCpu } from './fake-cpu.js';

const exitState = { rflags: 2n, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false };
function ioExit(f: Partial<IoExit> & { port: number; size: number; npc: bigint }): IoExit {
  return { reason: 'io', in: false, data: new Uint8Array(f.size), rep: false, str: false, exitState, ...f };
}
function memExit(gpa: number, write: boolean, size: number, instBytes: number[] = []): MemoryExit {
  return { reason: 'memory', gpa, write, size, prot: write ? 'w' : 'r', instBytes: new Uint8Array(instBytes), exitState };
}
class PortLog {
  readonly log: string[] = [];
  next = 0x10;
  handle = (r: IoRequest): void => {
    if (r.in) for (let i = 0; i < r.size; i++) r.data[i] = this.next++;
    this.log.push(`${r.in ? 'in' : 'out'} ${r.port.toString(16)}/${r.size}${r.in ? '' : ' ' + Array.from(r.data, (b) => b.toString(16)).join(',')}`);
  };
}
class Device {
  readonly bytes = new Uint8Array(0x1000);
  readonly log: string[] = [];
  constructor(readonly base: number) {
    for (let i = 0; i < this.bytes.length; i++) this.bytes[i] = (i * 7 + 3) & 0xff;
  }
  handle = (r: MemRequest): void => {
    const off = r.gpa - this.base;
    this.log.push(`${r.write ? 'w' : 'r'} ${r.gpa.toString(16)}/${r.size}`);
    if (r.write) this.bytes.set(r.data.subarray(0, r.size), off);
    else r.data.set(this.bytes.subarray(off, off + r.size));
  };
}

test('OUT/IN: no decode, no getState for OUT; IN merges AL/AX and zero-extends EAX', () => {
  const cpu = longModeCpu();
  cpu.setRegs({ rax: 0x1122334455667788n });
  const p = new PortLog();
  assistIo(cpu, ioExit({ port: 0x60, size: 2, data: new Uint8Array([0x33, 0x22]), npc: 0x1002n }), p.handle);
  assert.equal(cpu.getCalls, 0);
  assert.equal(cpu.gprs.rip, 0x1002n);
  assistIo(cpu, ioExit({ port: 0x61, size: 1, in: true, npc: 0x1004n }), p.handle);
  assert.equal(cpu.gprs.rax, 0x1122334455667710n);
  assistIo(cpu, ioExit({ port: 0x61, size: 2, in: true, npc: 0x1006n }), p.handle);
  assert.equal(cpu.gprs.rax, 0x1122334455661211n);
  assistIo(cpu, ioExit({ port: 0x62, size: 4, in: true, npc: 0x1008n }), p.handle);
  assert.equal(cpu.gprs.rax, 0x16151413n);
  assert.equal(cpu.gprs.rip, 0x1008n);
  assert.deepEqual(p.log, ['out 60/2 33,22', 'in 61/1', 'in 61/2', 'in 62/4']);
  assert.throws(() => assistIo(cpu, memExit(0, false, 1), p.handle), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
});

test('REP OUTSB / OUTSW from RAM, REP INSW with DF=1, FS override, 32-bit address size', () => {
  const cpu = longModeCpu();
  cpu.ram.set([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6], 0x5000);
  const p = new PortLog();
  cpu.code(0x1000, [0xf3, 0x6e]);
  cpu.setRegs({ rsi: 0x5000n, rcx: 5n });
  assistIo(cpu, ioExit({ port: 0x60, size: 1, str: true, rep: true, npc: 0x1002n }), p.handle);
  assert.deepEqual(p.log, ['out 60/1 a0', 'out 60/1 a1', 'out 60/1 a2', 'out 60/1 a3', 'out 60/1 a4']);
  assert.deepEqual([cpu.gprs.rsi, cpu.gprs.rcx, cpu.gprs.rip], [0x5005n, 0n, 0x1002n]);

  cpu.code(0x1000, [0xf3, 0x66, 0x6d]);
  cpu.setRegs({ rdi: 0x6004n, rcx: 3n, rflags: 0x402n });
  assistIo(cpu, ioExit({ port: 0x70, size: 2, in: true, str: true, rep: true, npc: 0x1003n }), p.handle);
  assert.deepEqual(Array.from(cpu.ram.subarray(0x6000, 0x6006)), [0x14, 0x15, 0x12, 0x13, 0x10, 0x11]);
  assert.deepEqual([cpu.gprs.rdi, cpu.gprs.rcx, cpu.gprs.rip], [0x5ffen, 0n, 0x1003n]);

  cpu.code(0x1000, [0x64, 0x6e]);
  cpu.state.segs.fs.base = 0x4000n;
  cpu.setRegs({ rsi: 0x1002n, rflags: 2n });
  p.log.length = 0;
  assistIo(cpu, ioExit({ port: 0x60, size: 1, str: true, npc: 0x1002n }), p.handle);
  assert.deepEqual(p.log, ['out 60/1 a2']);
  assert.equal(cpu.gprs.rsi, 0x1003n);

  cpu.code(0x1000, [0x67, 0xf3, 0x6e]);
  cpu.setRegs({ rsi: 0x1_0000_5000n, rcx: 0xffff_ffff_0000_0002n });
  p.log.length = 0;
  assistIo(cpu, ioExit({ port: 0x60, size: 1, str: true, rep: true, npc: 0x1003n }), p.handle);
  assert.deepEqual(p.log, ['out 60/1 a0', 'out 60/1 a1']);
  assert.deepEqual([cpu.gprs.rsi, cpu.gprs.rcx], [0x5002n, 0n]);
});

test('string I/O: 16-bit SI wraps, REP budget leaves RIP, #PF reported with progress kept, MMIO refused', () => {
  const rm = realModeCpu();
  rm.ram.set([0x55], 0xffff);
  rm.ram.set([0x66], 0);
  rm.code(0x1000, [0xf3, 0x6e]);
  rm.setRegs({ rsi: 0xabcd_ffffn, rcx: 2n });
  const p = new PortLog();
  assistIo(rm, ioExit({ port: 0x80, size: 1, str: true, rep: true, npc: 0x1002n }), p.handle);
  assert.deepEqual(p.log, ['out 80/1 55', 'out 80/1 66']);
  assert.deepEqual([rm.gprs.rsi, rm.gprs.rcx], [0xabcd_0001n, 0n]);

  const cpu = longModeCpu();
  cpu.code(0x1000, [0xf3, 0x6c]);
  cpu.setRegs({ rdi: 0x10000n, rcx: BigInt(IO_REP_BUDGET + 5) });
  assistIo(cpu, ioExit({ port: 0x60, size: 1, in: true, str: true, rep: true, npc: 0x1002n }), () => undefined);
  assert.deepEqual([cpu.gprs.rcx, cpu.gprs.rip], [5n, 0x1000n]);

  // Unmap 2..4 MiB in the page directory: the 3rd element faults, the first two are committed.
  cpu.ram.fill(0, 0x102008, 0x102010);
  cpu.setRegs({ rdi: 0x1ffffen, rcx: 4n });
  assert.throws(() => assistIo(cpu, ioExit({ port: 0x60, size: 1, in: true, str: true, rep: true, npc: 0x1002n }), () => undefined),
    (e: unknown) => e instanceof AssistFault && e.vector === 14 && e.errorCode === 2 && e.cr2 === 0x200000);
  assert.deepEqual([cpu.gprs.rdi, cpu.gprs.rcx, cpu.gprs.rip], [0x200000n, 2n, 0x1000n]);
  const mmio = longModeCpu();
  mmio.code(0x1000, [0xf3, 0x6c]);
  mmio.setRegs({ rdi: 0x200000n, rcx: 1n });
  assert.throws(() => assistIo(mmio, ioExit({ port: 0x60, size: 1, in: true, str: true, rep: true, npc: 0x1002n }), () => undefined),
    (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /not guest RAM/.test(e.message));
});

test('assistMem MOV/ADD to MMIO: direct route (one getState, no page walk) and fetch when instBytes are absent', () => {
  const cpu = longModeCpu();
  const dev = new Device(0x200000);
  cpu.code(0x1000, [0x89, 0x43, 0x10]);        // mov [rbx+0x10], eax
  cpu.setRegs({ rax: 0xffff_ffff_8765_4321n, rbx: 0x200000n });
  assistMem(cpu, memExit(0x200010, true, 4, [0x89, 0x43, 0x10]), dev.handle);
  assert.equal(cpu.getCalls, 1);
  assert.deepEqual(Array.from(dev.bytes.subarray(0x10, 0x14)), [0x21, 0x43, 0x65, 0x87]);
  assert.equal(cpu.gprs.rip, 0x1003n);
  cpu.code(0x1000, [0x03, 0x4b, 0x10]);          // add ecx, [rbx+0x10]
  cpu.setRegs({ rcx: 0xffff_ffff_7900_0000n });
  assistMem(cpu, memExit(0x200010, false, 4), dev.handle);
  assert.equal(cpu.gprs.rcx, 0x654321n);         // 0x87654321 + 0x79000000 = 0x1_00654321, zero-extended
  assert.equal(Number(cpu.gprs.rflags) & 0x8d5, 0x1 | 0x4);   // CF PF (not AF OF SF ZF)
  assert.deepEqual(dev.log, ['w 200010/4', 'r 200010/4']);
});

test('assistMem REP MOVS between MMIO and RAM (both directions, DF), REP budget', () => {
  const cpu = longModeCpu();
  const dev = new Device(0x200000);
  cpu.code(0x1000, [0xf3, 0xa4]);                // rep movsb
  cpu.setRegs({ rsi: 0x200100n, rdi: 0x5000n, rcx: 6n });
  assistMem(cpu, memExit(0x200100, false, 1), dev.handle);
  assert.deepEqual(Array.from(cpu.ram.subarray(0x5000, 0x5006)), Array.from(dev.bytes.subarray(0x100, 0x106)));
  assert.deepEqual([cpu.gprs.rsi, cpu.gprs.rdi, cpu.gprs.rcx, cpu.gprs.rip], [0x200106n, 0x5006n, 0n, 0x1002n]);
  cpu.code(0x1000, [0xf3, 0x48, 0xa5]);          // rep movsq, DF=1: RAM -> MMIO
  cpu.ram.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 0x6000);
  cpu.setRegs({ rsi: 0x6008n, rdi: 0x200308n, rcx: 2n, rflags: 0x402n });
  assistMem(cpu, memExit(0x200308, true, 8), dev.handle);
  assert.deepEqual(Array.from(dev.bytes.subarray(0x300, 0x310)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual([cpu.gprs.rsi, cpu.gprs.rdi, cpu.gprs.rcx, cpu.gprs.rip], [0x5ff8n, 0x2002f8n, 0n, 0x1003n]);
  cpu.code(0x1000, [0xf3, 0xaa]);                // rep stosb, over the budget
  cpu.setRegs({ rdi: 0x200000n, rcx: BigInt(MEM_REP_BUDGET + 3), rflags: 2n });
  assistMem(cpu, memExit(0x200000, true, 1), dev.handle);
  assert.deepEqual([cpu.gprs.rcx, cpu.gprs.rip], [3n, 0x1000n]);
});

test('assistMem in real mode (16-bit addressing, DS base) and errors: unknown exit, unemulated instruction', () => {
  const rm = realModeCpu();
  const dev = new Device(0x80000);
  rm.state.segs.ds = { ...rm.state.segs.ds, selector: 0x8000, base: 0x80000n };
  rm.code(0x1000, [0x89, 0x40, 0x02]);           // mov [bx+si+2], ax
  rm.setRegs({ rax: 0xbeefn, rbx: 0x10n, rsi: 0x4n });
  assistMem(rm, memExit(0x80016, true, 2), dev.handle);
  assert.deepEqual(Array.from(dev.bytes.subarray(0x16, 0x18)), [0xef, 0xbe]);
  assert.equal(rm.gprs.rip, 0x1003n);
  const cpu = longModeCpu();
  cpu.code(0x1000, [0x0f, 0xa2]);                // cpuid: not an MMIO instruction
  assert.throws(() => assistMem(cpu, memExit(0x200000, false, 4), dev.handle),
    (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /0f a2/.test(e.message));
  assert.equal(cpu.gprs.rip, 0x1000n);
  cpu.code(0x1000, [0xff, 0xff]);
  assert.throws(() => assistMem(cpu, memExit(0x200000, false, 4), dev.handle), (e: unknown) => e instanceof VmmError && e.code === 'ENODEV');
  assert.throws(() => assistMem(cpu, ioExit({ port: 1, size: 1, npc: 0n }), dev.handle), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
});

test('exits the backend completes (KVM): data exchange only, per element, no state access', () => {
  const cpu = longModeCpu();
  const p = new PortLog();
  const data = new Uint8Array(6);
  assistIo(cpu, { ...ioExit({ port: 0x60, size: 2, in: true, str: true, rep: true, npc: 0x1002n, data }), backendCompletes: true } as IoExit, p.handle);
  assert.deepEqual(Array.from(data), [0x10, 0x11, 0x12, 0x13, 0x14, 0x15]);
  assert.deepEqual(p.log, ['in 60/2', 'in 60/2', 'in 60/2']);
  const dev = new Device(0x200000);
  const mdata = new Uint8Array(4);
  assistMem(cpu, { ...memExit(0x200008, false, 4), data: mdata, backendCompletes: true } as MemoryExit, dev.handle);
  assert.deepEqual(Array.from(mdata), Array.from(dev.bytes.subarray(8, 12)));
  assert.equal(cpu.getCalls + cpu.setCalls, 0);
  assert.throws(() => assistMem(cpu, { ...memExit(0x200008, false, 4), data: new Uint8Array(2), backendCompletes: true } as MemoryExit, dev.handle),
    (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
});

test('assistMem: an operand crossing from RAM into the MMIO page is split between RAM and the handler', () => {
  const cpu = longModeCpu();
  const dev = new Device(0x200000);
  cpu.code(0x1000, [0x48, 0x89, 0x03]);         // mov [rbx], rax
  cpu.setRegs({ rax: 0x8877665544332211n, rbx: 0x1ffffcn });
  // The hardware exit names the MMIO part (GPA 0x200000), not the operand's first byte.
  assistMem(cpu, memExit(0x200000, true, 4, [0x48, 0x89, 0x03]), dev.handle);
  assert.deepEqual(Array.from(cpu.ram.subarray(0x1ffffc, 0x200000)), [0x11, 0x22, 0x33, 0x44]);
  assert.deepEqual(Array.from(dev.bytes.subarray(0, 4)), [0x55, 0x66, 0x77, 0x88]);
  assert.deepEqual(dev.log, ['w 200000/4']);
});

test('segment limits outside 64-bit mode: #GP past DS limit, #SS for SS, nothing changed', () => {
  const rm = realModeCpu();
  const dev = new Device(0x80000);
  rm.state.segs.ds = { ...rm.state.segs.ds, selector: 0x8000, base: 0x80000n };
  rm.code(0x1000, [0x89, 0x07]);                 // mov [bx], ax
  rm.setRegs({ rax: 0x1234n, rbx: 0xffffn });
  assert.throws(() => assistMem(rm, memExit(0x8ffff, true, 2), dev.handle),
    (e: unknown) => e instanceof AssistFault && e.vector === 13 && e.errorCode === 0);
  assert.equal(rm.gprs.rip, 0x1000n);
  assert.deepEqual(dev.log, []);
  rm.state.segs.ss = { ...rm.state.segs.ss, base: 0x80000n, limit: 0x0fff };
  rm.code(0x1000, [0x89, 0x46, 0x00]);           // mov [bp+0], ax (SS)
  rm.setRegs({ rbp: 0x1000n });
  assert.throws(() => assistMem(rm, memExit(0x81000, true, 2), dev.handle), (e: unknown) => e instanceof AssistFault && e.vector === 12);
});

test('assistMem: an instruction that does not access the exit GPA is EFAULT naming both, registers unchanged, no handler call', () => {
  const cpu = longModeCpu();
  const dev = new Device(0x200000);
  const cases: [string, number[]][] = [
    ['jmp', [0xeb, 0xfe]],               // jmp $: no memory access (e.g. the CPU itself read an IDT outside RAM)
    ['push', [0x50]],                    // push rax: a stack write to RAM
    ['movs', [0xf3, 0xa4]],              // rep movsb, RAM -> RAM
  ];
  for (const [mnemonic, bytes] of cases) {
    cpu.code(0x1000, bytes);
    cpu.setRegs({ rip: 0x1000n, rsp: 0x8000n, rsi: 0x5000n, rdi: 0x6000n, rcx: 4n });
    assert.throws(() => assistMem(cpu, memExit(0x200010, false, 4), dev.handle),
      (e: unknown) => e instanceof VmmError && e.code === 'EFAULT' && e.message.includes(`'${mnemonic}'`) && /0x200010/.test(e.message),
      mnemonic);
    assert.deepEqual([cpu.gprs.rip, cpu.gprs.rsp, cpu.gprs.rsi, cpu.gprs.rcx], [0x1000n, 0x8000n, 0x5000n, 4n], mnemonic);
  }
  assert.deepEqual(dev.log, []);
});
