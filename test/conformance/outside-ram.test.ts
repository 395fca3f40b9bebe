/**
 * Conformance: what a guest gets when the CPU itself needs memory that is not RAM, on every
 * backend usable here, through the public API.
 * - Event delivery whose IDT, GDT or stack lies outside RAM faults (#DF, then a triple fault):
 *   a 'shutdown' exit, the state left at the instruction; never a 'memory' exit (no assist can
 *   emulate the CPU's own accesses) and never a lost event.
 * - Executing from a guest-physical address without RAM (a jump there, or an instruction that
 *   runs off the end of RAM) is an 'invalid' exit with RIP on the instruction; run() never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, type BackendName, type Vcpu, type VcpuStateInput, type VmExit } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { backendSkip, BACKEND_NAMES } from '../frontend/real-backends.js';
import { describeExit } from './harness.js';

const RAM_SIZE = 4 << 20;
const CODE = 0x10000, IDT = 0x30000, TABLES = 0x100000, STACK = 0x200000;
/** Identity-mapped like the first GiB, but no RAM: MMIO for the VMM. */
const MMIO = 0x10000000;
const HANDLER = 0x11000;
/** #DF handler (out 0xf5; hlt), on IST1 = DF_STACK (in RAM) when a case asks for it. */
const DF_HANDLER = 0x12000, TSS = 0x120000, DF_STACK = 0x300000;

interface Case {
  name: string;
  code: number[];
  /** Bytes placed at the last bytes of RAM. */
  ramEnd?: number[];
  tweak?: (st: VcpuStateInput) => void;
  inject?: Parameters<Vcpu['inject']>[0];
  reason: VmExit['reason'];
  rip: number;
  /** What KVM may report instead where its instruction emulator (not the CPU) delivers the event. */
  kvmMay?: VmExit['reason'];
  /** #DF goes to DF_HANDLER on an IST stack in RAM; the frame it finds: [error code, saved RIP]. */
  dfOnIst?: [bigint, bigint];
}

const seg = (st: VcpuStateInput, name: 'idt' | 'gdt', base: number): void => {
  st.segs![name] = { ...st.segs![name]!, base: BigInt(base) };
};

const CASES: Case[] = [
  { name: '#UD with the IDT outside RAM', code: [0x0f, 0x0b], tweak: (st) => seg(st, 'idt', MMIO), reason: 'shutdown', rip: CODE },
  { name: '#UD with the stack outside RAM', code: [0x0f, 0x0b], tweak: (st) => { st.gprs!.rsp = BigInt(MMIO + 0x1000); }, reason: 'shutdown', rip: CODE },
  { name: '#UD with the stack outside RAM, #DF on an IST stack in RAM', code: [0x0f, 0x0b], tweak: (st) => { st.gprs!.rsp = BigInt(MMIO + 0x1000); },
    dfOnIst: [0n, BigInt(CODE)], reason: 'io', rip: DF_HANDLER + 2 },
  { name: '#UD with the GDT outside RAM', code: [0x0f, 0x0b], tweak: (st) => seg(st, 'gdt', MMIO), reason: 'shutdown', rip: CODE },
  { name: 'an injected #GP with the IDT outside RAM', code: [0x90, 0xf4], tweak: (st) => seg(st, 'idt', MMIO), inject: { type: 'exception', vector: 13, errorCode: 0 }, reason: 'shutdown', rip: CODE },
  // The PVM host emulates CPL0 code: its emulator fails to read the IDT from MMIO for INT n and
  // says so (an internal 'emulation failure', reported as 'invalid') instead of faulting.
  { name: 'INT 0x30 with the IDT outside RAM', code: [0xcd, 0x30], tweak: (st) => seg(st, 'idt', MMIO), reason: 'shutdown', rip: CODE, kvmMay: 'invalid' },
  // mov rax, MMIO; jmp rax
  { name: 'a jump to a guest-physical address without RAM', code: [0x48, 0xb8, ...le64(MMIO), 0xff, 0xe0], reason: 'invalid', rip: MMIO },
  // mov rax, RAM_SIZE - 2; jmp rax -> "mov rax, imm64" whose immediate lies past the end of RAM
  { name: 'an instruction running off the end of RAM', code: [0x48, 0xb8, ...le64(RAM_SIZE - 2), 0xff, 0xe0], ramEnd: [0x48, 0xb8], reason: 'invalid', rip: RAM_SIZE - 2 },
];

function le64(v: number): number[] {
  return Array.from({ length: 8 }, (_, k) => Math.floor(v / 2 ** (8 * k)) & 0xff);
}

function gate64(view: DataView, vector: number, handler: number, ist = 0): void {
  const o = IDT + vector * 16;
  view.setUint16(o, handler & 0xffff, true);
  view.setUint16(o + 2, 0x08, true);
  view.setUint16(o + 4, 0x8e00 | ist, true);
  view.setUint16(o + 6, handler >>> 16, true);
  view.setUint32(o + 8, 0, true);
}

/**
 * The exits until a non-memory one (at most 3), RIP at the end (an OUT's npc: hosts leave RIP on
 * it or past it), the two stack slots at RSP, and the exits described while the vCPU lives (on
 * KVM an io exit's data aliases kvm_run, which is unmapped when the hypervisor closes).
 */
function runCase(backend: BackendName, c: Case): { exits: VmExit[]; rip: number; stack: [bigint, bigint]; described: string } {
  const hv = Hypervisor.open({ backend });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(RAM_SIZE);
    m.map(0, ram);
    const view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, RAM_SIZE);
    ram.bytes.set(c.code, CODE);
    if (c.ramEnd) ram.bytes.set(c.ramEnd, RAM_SIZE - c.ramEnd.length);
    ram.bytes.set([0xe6, 0xf4, 0xf4], HANDLER); // every handler: out 0xf4; hlt
    for (const v of [6, 8, 10, 11, 12, 13, 14, 0x30]) gate64(view, v, HANDLER);
    const st = longModeState({ ram: ram.bytes, ramGpa: 0, tablesGpa: TABLES, mapBytes: 1 << 30 }, { entry: CODE, stack: STACK, cpl: 0 });
    st.segs!.idt = { ...st.segs!.idt!, base: BigInt(IDT), limit: 0xfff };
    if (c.dfOnIst) {
      ram.bytes.set([0xe6, 0xf5, 0xf4], DF_HANDLER);
      gate64(view, 8, DF_HANDLER, 1);
      view.setUint32(TSS + 0x24, DF_STACK, true); // IST1
      st.segs!.tr = { ...st.segs!.tr!, base: BigInt(TSS), limit: 0x67 };
    }
    c.tweak?.(st);
    const cpu = m.createVcpu(0);
    cpu.setState(st);
    if (c.inject) cpu.inject(c.inject);
    const exits: VmExit[] = [];
    for (let n = 0; n < 3; n++) {
      const e = cpu.run();
      exits.push(e);
      if (e.reason !== 'memory') break;
    }
    const g = cpu.getState(State.GPRS).gprs!;
    const last = exits[exits.length - 1]!;
    const rsp = Number(g.rsp);
    const stack: [bigint, bigint] = rsp + 16 <= RAM_SIZE ? [view.getBigUint64(rsp, true), view.getBigUint64(rsp + 8, true)] : [-1n, -1n];
    return { exits, rip: Number(last.reason === 'io' ? last.npc : g.rip), stack, described: exits.map(describeExit).join(' | ') };
  } finally {
    hv.close();
  }
}

for (const backend of BACKEND_NAMES) {
  const skip = backendSkip(backend, 'outside-RAM conformance');
  for (const c of CASES) {
    test(`${backend}: ${c.name} -> ${c.reason}`, { skip }, () => {
      const { exits, rip, stack, described } = runCase(backend, c);
      const got = exits.map((e) => e.reason);
      const allowed = backend === 'kvm' && c.kvmMay ? [c.reason, c.kvmMay] : [c.reason];
      assert.ok(got.length === 1 && allowed.includes(got[0]!), `expected ${allowed.join(' or ')}: ${described}`);
      if (got[0] !== c.reason) console.log(`# ${backend}: ${c.name}: ${described}`);
      assert.equal(rip.toString(16), c.rip.toString(16), 'RIP');
      assert.equal(exits[0]!.exitState.evtPending, false, 'no event left behind');
      if (c.dfOnIst) assert.deepEqual(stack, c.dfOnIst, '#DF frame: error code 0, RIP of the UD2');
    });
  }
}
