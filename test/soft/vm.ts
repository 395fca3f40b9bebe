/**
 * Soft-backend test fixtures: a machine with RAM at GPA 0, guests loaded from guests/build,
 * and a run helper that answers port I/O (0xe9 log, 0xf4 end) the way the tests expect.
 */
import { Hypervisor, State, type GuestMemory, type Machine, type MachineOptions, type Vcpu, type VcpuStateInput, type VmExit } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import type { SoftVcpu } from '../../src/backends/soft/vcpu.js';
import { setWasmBatch, WASM_BATCH } from '../../src/backends/soft/wasm/block-wasm.js';
import { guestBinary } from '../support.js';

export interface SoftVm { hv: Hypervisor; m: Machine; mem: GuestMemory; ram: Uint8Array; cpu: Vcpu }

export const RAM_SIZE = 4 * 2 ** 20;

export function softVm(ramSize = RAM_SIZE, options: MachineOptions = {}): SoftVm {
  const hv = Hypervisor.open({ backend: 'soft' });
  const m = hv.createMachine(options);
  const mem = m.allocate(ramSize);
  m.map(0, mem);
  return { hv, m, mem, ram: mem.bytes, cpu: m.createVcpu(0) };
}

export function load(vm: SoftVm, name: string, gpa: number): void {
  vm.ram.set(guestBinary(name), gpa);
}

/** 64-bit long mode at CPL0 (or 3), identity-mapped RAM, tables at the top of RAM. */
export function longMode(vm: SoftVm, entry: number, cpl: 0 | 3 = 0): VcpuStateInput {
  return longModeState(
    { ram: vm.ram, ramGpa: 0, tablesGpa: vm.ram.length - 0x10000, mapBytes: vm.ram.length },
    { entry, stack: 0x80000, cpl, kernelStack: 0x88000 },
  );
}

/** The soft CPU's three ways to run code, as [label, compile after this many runs, interpret only]. */
export const RUN_WAYS = [['cold blocks', Infinity, false], ['compiled blocks', 4, false], ['one instruction at a time', Infinity, true]] as const;
/**
 * A fourth way, for the tests of what the wasm tier's chain must notice (wasm/chain.ts): blocks
 * compiled to wasm after a few runs, run chained; [3] is the runs before the wasm compile.
 */
export const WASM_WAY = ['wasm blocks, chained', Infinity, false, 4] as const;
export type RunWay = typeof RUN_WAYS[number] | typeof WASM_WAY;

/** The soft CPU behind a soft VM's vCPU, for tests that look inside. */
export function softCpu(vm: SoftVm): SoftVcpu['cpu'] {
  return softCpuOf(vm.cpu);
}

/** The soft CPU behind a soft vCPU. */
export function softCpuOf(vcpu: Vcpu): SoftVcpu['cpu'] {
  return (vcpu as unknown as { impl: SoftVcpu }).impl.cpu;
}

/** Makes the vCPU's soft CPU run one way (RUN_WAYS: its compile threshold and interpret-only flag); returns that CPU. */
export function useWay(vm: SoftVm, way: RunWay): SoftVcpu['cpu'] {
  const cpu = softCpu(vm);
  cpu.hotBlockRuns = way[1];
  cpu.interpretOnly = way[2];
  return cpu;
}

/**
 * Runs the vCPU to an exit; with after, first only that many instructions, then change(), then
 * on (a change made under a block that is running, compiled or not). Every exit, in order.
 */
export function runChangingAfter(vm: SoftVm, after: number | undefined, change: () => void): VmExit[] {
  const exits: VmExit[] = [];
  if (after !== undefined) {
    exits.push(vm.cpu.run({ maxInstructions: after }));
    change();
  }
  exits.push(vm.cpu.run());
  return exits;
}

/**
 * Runs a 64-bit guest (a guests/ binary linked and loaded at 0x10000, or code bytes put there)
 * one way until it ends (runLogged), then calls check with the machine still open.
 */
export function runLongModeGuest(guest: string | readonly number[], way: RunWay, check: (r: RunResult, vm: SoftVm) => void): void {
  const vm = softVm(), saved = [WASM_BATCH.size, WASM_BATCH.wait] as const;
  try {
    const cpu = useWay(vm, way);
    cpu.wasmBlockRuns = way === WASM_WAY ? way[3] : Infinity;
    // Small batches compiled soon: these guests run a few thousand instructions.
    if (way === WASM_WAY) setWasmBatch(4, 500);
    if (typeof guest === 'string') load(vm, guest, 0x10000);
    else vm.ram.set(guest, 0x10000);
    vm.cpu.setState(longMode(vm, 0x10000));
    check(runLogged(vm.cpu), vm);
  } finally {
    if (way === WASM_WAY) setWasmBatch(...saved);
    vm.hv.close();
  }
}

/** The vCPU's TSC: instructions retired on soft. */
export function tsc(vm: SoftVm): bigint {
  return vm.cpu.getState(State.MSRS).msrs!.tsc!;
}

/** Runs to the next exit, which must be an OUT to port 0xe9; completes it and returns AL. */
export function runToOutE9(cpu: Vcpu): number {
  const exit = cpu.run();
  if (exit.reason !== 'io' || exit.port !== 0xe9) throw new Error(`expected an OUT to 0xe9, got exit ${exit.reason}`);
  cpu.assistIo(exit, () => {});
  return exit.data[0]!;
}

export interface RunResult { log: number[]; end: VmExit }

/** Runs until OUT 0xf4 or a non-I/O exit; OUT 0xe9 values are collected in log. */
export function runLogged(cpu: Vcpu, maxExits = 100): RunResult {
  const log: number[] = [];
  for (let n = 0; n < maxExits; n++) {
    const exit = cpu.run();
    if (exit.reason === 'io' && !exit.in && exit.port === 0xe9) {
      let v = 0;
      for (let k = exit.size - 1; k >= 0; k--) v = v * 256 + exit.data[k]!;
      log.push(v);
      cpu.assistIo(exit, () => {});
      continue;
    }
    return { log, end: exit };
  }
  throw new Error(`no end after ${maxExits} exits`);
}

export function gprs(cpu: Vcpu): NonNullable<ReturnType<Vcpu['getState']>['gprs']> {
  return cpu.getState(State.GPRS).gprs!;
}

/** Writes a 64-bit IDT gate at idtBase for vector -> handler (kernel CS 0x08); present unless told. */
export function setGate64(vm: SoftVm, idtBase: number, vector: number, handler: number, present = true): void {
  const g = new DataView(vm.ram.buffer, idtBase + vector * 16, 16);
  g.setUint16(0, handler & 0xffff, true);
  g.setUint16(2, 0x08, true);
  g.setUint16(4, present ? 0x8e00 : 0x0e00, true);
  g.setUint16(6, (handler >>> 16) & 0xffff, true);
  g.setUint32(8, Math.floor(handler / 2 ** 32), true);
}

export interface Trace { exits: string[]; gprs: string; tsc: bigint }

/** Runs to OUT 0xf4 (or 0x501), answering memory reads with a counter and I/O with nothing. */
export function trace(vm: SoftVm, state: VcpuStateInput): Trace {
  vm.cpu.setState(state);
  const exits: string[] = [];
  let reads = 0;
  for (let n = 0; n < 1000; n++) {
    const e: VmExit = vm.cpu.run();
    if (e.reason === 'memory') {
      exits.push(`memory ${e.gpa.toString(16)} ${e.write} ${e.size} [${Array.from(e.instBytes).join(' ')}]`);
      vm.cpu.assistMem(e, (req) => { if (!req.write) req.data.set([++reads, 0, 0, 0].slice(0, req.size)); });
      continue;
    }
    if (e.reason === 'io') {
      exits.push(`io ${e.port.toString(16)} ${Array.from(e.data).join(' ')}`);
      if (e.port === 0xf4 || e.port === 0x501) break;
      vm.cpu.assistIo(e, () => {});
      continue;
    }
    exits.push(e.reason);
    break;
  }
  const g = vm.cpu.getState(State.GPRS).gprs!;
  return { exits, gprs: JSON.stringify(g, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)), tsc: vm.cpu.getState(State.MSRS).msrs!.tsc! };
}
