/**
 * Runs a conformance guest (guests/conf-*.S) on a backend through the public API and collects
 * what the comparison needs: the port-0xe9 log, the final GPRs and chosen memory ranges.
 * Conventions of the guests: OUT to 0xe9 logs a value, OUT to 0xf4 ends the run.
 */
import { Hypervisor, State, type BackendName, type Gprs, type Vcpu, type VmExit } from '../../src/index.js';
import { LONG_MODE_TABLES_SIZE, longModeState, realModeState } from '../../src/x86/boot-state.js';
import { guestBinary } from '../support.js';

export const PORT_LOG = 0xe9;
export const PORT_DONE = 0xf4;

export interface GuestSpec {
  name: string;
  /** real: real mode at 0:load; long-user / long-kernel: 64-bit identity-mapped, CPL3 or CPL0. */
  start: 'real' | 'long-user' | 'long-kernel';
  /**
   * How the run ends: 'out' (default) = OUT to PORT_DONE; 'shutdown' = a deliberate triple fault
   * (CPL3 guests: HLT with no IDT), compared in the state at the faulting instruction.
   */
  end?: 'out' | 'shutdown';
  /** GPA the binary is loaded at (its link address) and where it starts. */
  load: number;
  /** Guest-physical ranges [gpa, length] compared after the run. */
  compare: [number, number][];
  /** Exits allowed before the run counts as stuck (io exits included). */
  maxExits?: number;
  /** Registers not compared (e.g. values a guest derives from host-specific state). */
  ignoreRegs?: (keyof Gprs)[];
}

export interface GuestResult {
  log: number[];
  gprs: Gprs;
  memory: Uint8Array[];
  exits: number;
}

export const RAM_SIZE = 4 * 2 ** 20;
const TABLES_GPA = 0x3f0000;
const STACK_TOP = 0x80000;

export function setupState(vcpu: Vcpu, ram: Uint8Array, spec: GuestSpec): void {
  if (spec.start === 'real') {
    vcpu.setState(realModeState(0, spec.load, 0x8000));
    return;
  }
  const user = spec.start === 'long-user';
  const st = longModeState(
    { ram, ramGpa: 0, tablesGpa: TABLES_GPA, mapBytes: RAM_SIZE },
    { entry: spec.load, stack: STACK_TOP, cpl: user ? 3 : 0, kernelStack: STACK_TOP + 0x8000 },
  );
  // IF set: user code runs with interrupts enabled (and the PVM host forces IF=1 at CPL3).
  if (user) st.gprs = { ...st.gprs, rflags: 0x202n };
  vcpu.setState(st);
}

/** Loads and runs spec on backend; throws with the exit and RIP when the guest does anything unexpected. */
export function runGuest(backend: BackendName, spec: GuestSpec): GuestResult {
  if (TABLES_GPA + LONG_MODE_TABLES_SIZE > RAM_SIZE) throw new Error('table area outside RAM');
  const hv = Hypervisor.open({ backend });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(RAM_SIZE);
    m.map(0, ram);
    ram.bytes.set(guestBinary(spec.name), spec.load);
    const vcpu = m.createVcpu(0);
    setupState(vcpu, ram.bytes, spec);
    const log: number[] = [];
    const max = spec.maxExits ?? 1000;
    for (let n = 1; n <= max; n++) {
      const exit: VmExit = vcpu.run();
      if (exit.reason === 'io' && !exit.in && exit.port === PORT_DONE) {
        const gprs = vcpu.getState(State.GPRS).gprs!;
        // Backends may leave RIP on the OUT or past it (the PVM host does): npc is the same.
        gprs.rip = BigInt(exit.npc);
        for (const r of spec.ignoreRegs ?? []) gprs[r] = 0n;
        return { log, gprs, memory: spec.compare.map(([gpa, len]) => ram.bytes.slice(gpa, gpa + len)), exits: n };
      }
      if (exit.reason === 'shutdown' && spec.end === 'shutdown') {
        const gprs = vcpu.getState(State.GPRS).gprs!;
        // RF is set or not by the failed event delivery depending on the host: not compared.
        gprs.rflags &= ~0x10000n;
        for (const r of spec.ignoreRegs ?? []) gprs[r] = 0n;
        return { log, gprs, memory: spec.compare.map(([gpa, len]) => ram.bytes.slice(gpa, gpa + len)), exits: n };
      }
      if (exit.reason === 'io' && !exit.in && exit.port === PORT_LOG) {
        let v = 0;
        for (let k = exit.size - 1; k >= 0; k--) v = v * 256 + exit.data[k]!;
        log.push(v);
        vcpu.assistIo(exit, () => {});
        continue;
      }
      const rip = vcpu.getState(State.GPRS).gprs!.rip;
      throw new Error(`${spec.name} on ${backend}: unexpected exit ${describeExit(exit)} at rip 0x${rip.toString(16)}`);
    }
    throw new Error(`${spec.name} on ${backend}: no end after ${max} exits`);
  } finally {
    hv.close();
  }
}

export function describeExit(exit: VmExit): string {
  const { exitState: _s, ...rest } = exit;
  return JSON.stringify(rest, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? Array.from(v) : v));
}

/** Differences between two results, as readable lines (empty when they agree). */
export function diffResults(a: GuestResult, b: GuestResult, spec: GuestSpec): string[] {
  const out: string[] = [];
  if (a.log.join(',') !== b.log.join(',')) out.push(`log: [${a.log}] vs [${b.log}]`);
  for (const k of Object.keys(a.gprs) as (keyof Gprs)[]) {
    if (a.gprs[k] !== b.gprs[k]) out.push(`${k}: 0x${a.gprs[k].toString(16)} vs 0x${b.gprs[k].toString(16)}`);
  }
  spec.compare.forEach(([gpa], i) => {
    const x = a.memory[i]!, y = b.memory[i]!;
    for (let k = 0; k < x.length; k++) {
      if (x[k] !== y[k]) {
        out.push(`memory 0x${(gpa + k).toString(16)}: 0x${x[k]!.toString(16)} vs 0x${y[k]!.toString(16)} (first difference in range ${i})`);
        break;
      }
    }
  });
  return out;
}
