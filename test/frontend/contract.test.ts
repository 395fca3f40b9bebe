// The API contract of shared/DESIGN.md, checked name by name on every backend that runs here:
// the documented methods exist with the documented shapes, and one real guest produces io (out
// and in), memory (write and read), halted, stopped and shutdown exits, each with a typed
// exitState. Values are compared, not merely "did not throw".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../../src/index.js';
import { Hypervisor, State, VmmError, flat32State, segment } from '../../src/index.js';
import type { Vcpu, VmExit } from '../../src/index.js';
import { useTempRundir } from './fake-backend.js';
import { BACKEND_NAMES, backendSkip } from './real-backends.js';
import { assertExitState } from '../support.js';

useTempRundir();

const RAM = 0x8000;
const MMIO = 0x9000;          // no RAM here: accesses are memory exits
const CODE = 0x1000;
// Flat 32-bit protected mode, paging off, at 0x1000:
const GUEST = [
  0xb0, 0x42,                   // 1000 mov al, 0x42
  0xe6, 0x80,                   // 1002 out 0x80, al          -> io (out)
  0xe4, 0x81,                   // 1004 in al, 0x81           -> io (in), assist fills 0x99
  0xa2, 0x00, 0x90, 0x00, 0x00, // 1006 mov [0x9000], al      -> memory (write 0x99)
  0xa0, 0x10, 0x90, 0x00, 0x00, // 100b mov al, [0x9010]      -> memory (read), assist fills 0x37
  0xf4,                         // 1010 hlt                   -> halted
  0xf4,                         // 1011 hlt (never reached: the injected #UD shuts the machine down)
];

function run(cpu: Vcpu, reason: VmExit['reason']): VmExit {
  const e = cpu.run();
  assert.equal(e.reason, reason, `expected a ${reason} exit, got ${JSON.stringify(e, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)}`);
  assertExitState(e);
  return e;
}

const rax = (cpu: Vcpu): bigint => cpu.getState(State.GPRS).gprs!.rax;
const rip = (cpu: Vcpu): bigint => cpu.getState(State.GPRS).gprs!.rip;

function throwsCode(fn: () => unknown, code: string, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof VmmError && e.code === code && e.message.length > 0, what);
}

test('the contract names are exported from src/index.ts', () => {
  for (const name of ['Hypervisor', 'Machine', 'Vcpu', 'VmmError', 'State', 'stopVcpu']) {
    assert.ok(name in api, `${name} is exported`);
  }
  assert.deepEqual(State, { SEGS: 0x01, GPRS: 0x02, CRS: 0x04, DRS: 0x08, MSRS: 0x10, INTR: 0x20, FPU: 0x40, ALL: 0x7f });
  assert.equal(typeof Hypervisor.open, 'function');
});

for (const name of BACKEND_NAMES) {
  test(`${name}: the API contract, and a real guest's io/memory/halted/stopped/shutdown exits`, { skip: backendSkip(name, 'the contract test') }, () => {
    const hv = Hypervisor.open({ backend: name });
    try {
      assert.equal(hv.backend, name);
      const cap = hv.capability();
      assert.equal(typeof cap.version, 'number');
      assert.ok(Number.isInteger(cap.stateSize) && cap.stateSize > 0, `stateSize ${cap.stateSize}`);
      assert.equal(cap.maxMachines, 128);
      assert.equal(cap.maxVcpus, 128);
      assert.ok(Number.isSafeInteger(cap.maxRam) && cap.maxRam > 0, `maxRam ${cap.maxRam}`);
      assert.deepEqual(cap.arch.vcpuConf, { cpuid: true, tpr: true });
      assert.equal(typeof cap.arch.xcr0Mask, 'bigint');
      assert.equal(cap.arch.xcr0Mask & 1n, 1n, 'x87 in xcr0Mask (bit 0 is architecturally always set)');
      assert.equal(typeof cap.arch.mxcsrMask, 'number');
      assert.ok(Number.isInteger(cap.arch.cpuidMaxOps) && cap.arch.cpuidMaxOps > 0, `cpuidMaxOps ${cap.arch.cpuidMaxOps}`);

      const m = hv.createMachine();
      const ram = m.allocate(RAM);
      assert.ok(ram.bytes instanceof Uint8Array);
      assert.equal(ram.size, RAM);
      assert.equal(ram.bytes.length, RAM);
      m.map(0, ram, { offset: 0, size: RAM, prot: 'rwx' });
      assert.deepEqual(m.gpaToHost(CODE), { memory: ram, offset: CODE, prot: 'rwx' });
      assert.equal(m.gpaToHost(MMIO), undefined);
      // offset/size/prot select a window of an allocation; unmap removes it.
      const rom = m.allocate(0x2000);
      m.map(0xa000, rom, { offset: 0x1000, size: 0x1000, prot: 'r' });
      assert.deepEqual(m.gpaToHost(0xa010), { memory: rom, offset: 0x1010, prot: 'r' });
      throwsCode(() => m.map(0xa000, rom, { size: 0x1000 }), 'EEXIST', 'overlapping map');
      m.unmap(0xa000, 0x1000);
      assert.equal(m.gpaToHost(0xa010), undefined);

      const cpu = m.createVcpu(0);
      throwsCode(() => m.createVcpu(0), 'EEXIST', 'duplicate vCPU id');
      throwsCode(() => m.createVcpu(128), 'EINVAL', 'vCPU id 128');
      cpu.configureCpuid(0x40000000, { set: { eax: 1 }, del: { ebx: 2 } });
      cpu.configureTpr({ exitChanged: false });
      throwsCode(() => cpu.getState(0x80), 'EINVAL', 'unknown State flag');

      ram.bytes.set(GUEST, CODE);
      cpu.setState(flat32State(CODE, 0x7ff0));
      const gs = cpu.getState(State.GPRS | State.SEGS);
      assert.deepEqual(Object.keys(gs).sort(), ['gprs', 'segs']);
      assert.equal(gs.gprs!.rip, BigInt(CODE));
      assert.equal(gs.segs!.cs.selector, 8);
      assert.equal(typeof gs.segs!.cs.base, 'bigint');
      const full = cpu.getState();
      assert.deepEqual(Object.keys(full).sort(), ['crs', 'drs', 'fpu', 'gprs', 'intr', 'msrs', 'segs']);
      assert.equal(full.fpu!.st.length, 8);
      assert.equal(full.fpu!.xmm.length, 16);
      assert.ok(full.fpu!.st.every((r) => r.length === 10) && full.fpu!.xmm.every((r) => r.length === 16));

      // Paging is off: gvaToGpa is the identity, with every right.
      assert.deepEqual(cpu.gvaToGpa(0x1234), { gpa: 0x1234, prot: { read: true, write: true, exec: true, user: true } });

      const out = run(cpu, 'io');
      assert.ok(out.reason === 'io');
      assert.deepEqual([out.port, out.in, out.size, out.rep, out.str, out.npc], [0x80, false, 1, false, false, 0x1004n]);
      const seen: number[] = [];
      cpu.assistIo(out, (req) => {
        assert.deepEqual([req.port, req.in, req.size], [0x80, false, 1]);
        seen.push(...req.data);
      });
      assert.deepEqual(seen, [0x42]);

      const inp = run(cpu, 'io');
      assert.ok(inp.reason === 'io');
      assert.deepEqual([inp.port, inp.in, inp.size, inp.npc], [0x81, true, 1, 0x1006n]);
      cpu.assistIo(inp, (req) => { req.data[0] = 0x99; });

      const wr = run(cpu, 'memory');
      assert.ok(wr.reason === 'memory');
      assert.deepEqual([wr.gpa, wr.write, wr.size, wr.prot], [MMIO, true, 1, 'w']);
      assert.ok(wr.instBytes instanceof Uint8Array);
      const writes: [number, number[]][] = [];
      cpu.assistMem(wr, (req) => { writes.push([req.gpa, [...req.data]]); });
      assert.deepEqual(writes, [[MMIO, [0x99]]], 'the IN result reached the MMIO write');
      assert.equal(rip(cpu), 0x100bn, 'assistMem advanced RIP past the store');

      const rd = run(cpu, 'memory');
      assert.ok(rd.reason === 'memory');
      assert.deepEqual([rd.gpa, rd.write, rd.size, rd.prot], [MMIO + 0x10, false, 1, 'r']);
      cpu.assistMem(rd, (req) => { req.data[0] = 0x37; });

      run(cpu, 'halted');
      assert.equal(rax(cpu) & 0xffn, 0x37n, 'the MMIO read reached AL');
      assert.equal(rip(cpu), 0x1011n, 'RIP after the HLT');

      cpu.stop();
      run(cpu, 'stopped');
      assert.equal(rip(cpu), 0x1011n, 'a stopped run executed nothing');

      // An exception the guest cannot deliver (IDT limit 0) escalates to a triple fault.
      cpu.setState({ segs: { idt: segment({ selector: 0, limit: 0, type: 0, s: 0 }) } }, State.SEGS);
      cpu.inject({ type: 'exception', vector: 6 });
      run(cpu, 'shutdown');

      cpu.destroy();
      throwsCode(() => cpu.run(), 'ENOENT', 'run() on a destroyed vCPU');
      m.destroy();
      throwsCode(() => m.createVcpu(1), 'ENOENT', 'createVcpu on a destroyed machine');
    } finally {
      hv.close();
    }
    throwsCode(() => hv.createMachine(), 'ENOENT', 'createMachine on a closed hypervisor');
  });
}
