/**
 * Runs an assist test guest through the public API: long mode at CPL3 (IOPL 3) or real mode,
 * memory exits completed with cpu.assistMem against a byte-array device, I/O exits with
 * cpu.assistIo (or a done marker on port 0xEF). An AssistFault (the emulated instruction raised an
 * exception) is injected into the guest when the setup asks for it, as a monitor does.
 */
import { Hypervisor, type IoRequest, type MemRequest, type Machine, type Vcpu, type VcpuStateInput } from '../../src/index.js';
import { AssistFault } from '../../src/x86/assist/index.js';
import { longModeState, realModeState } from '../../src/x86/boot-state.js';

export const DONE_PORT = 0xef;
/** A write here (unmapped GPA) ends a 64-bit guest: PVM does not honour IOPL 3 at CPL3, so OUT would #GP. */
export const DONE_GPA = 0x3ff000;
export const LONG = { DATA: 0x200000, BUF: 0x170000, LOG: 0x180000, TABLES: 0x100000, STACK: 0x80000, RAM: 0x200000 };

/** A device that behaves like memory: what the handler reads is what was written. */
export class ByteDevice {
  readonly bytes: Uint8Array;
  calls = 0;
  constructor(readonly base: number, init: Uint8Array) {
    this.bytes = init.slice();
  }
  handle = (req: MemRequest): void => {
    this.calls++;
    const off = req.gpa - this.base;
    if (off < 0 || off + req.size > this.bytes.length) throw new Error(`device access at 0x${req.gpa.toString(16)} outside the device`);
    if (req.write) this.bytes.set(req.data.subarray(0, req.size), off);
    else req.data.set(this.bytes.subarray(off, off + req.size));
  };
}

export interface RunResult {
  hv: Hypervisor; ram: Uint8Array; data: Uint8Array; memExits: number; ioExits: number; cpu: Vcpu; machine: Machine;
  /** The handler's accesses in order, as 'r|w offset/size' from dataGpa (MMIO runs). */
  accesses: string[];
  /** Vectors of the AssistFaults injected. */
  injected: number[];
}

export interface GuestSetup {
  backend: 'kvm' | 'soft';
  image: Uint8Array;
  /** 'long': 64-bit CPL3 with identity paging; 'real': real mode at 0:0. */
  mode: 'long' | 'real';
  /** GPA and initial contents of the data page; mapped as RAM when dataAsRam, else a ByteDevice. */
  dataGpa: number;
  dataInit: Uint8Array;
  dataAsRam: boolean;
  /** Bytes to pre-load into RAM (gpa -> bytes), e.g. a string buffer. */
  preload?: [number, Uint8Array][];
  gprs?: Record<string, bigint>;
  io?: (req: IoRequest) => void;
  /** Privilege level of a long-mode guest (default 3: native speed on KVM-PVM). */
  cpl?: 0 | 3;
  /** Called after the initial state is set, before the first run. */
  setup?: (cpu: Vcpu) => void;
  /** Most exits before the run is declared hung. */
  maxExits?: number;
  /** Inject the exception of an AssistFault (else it ends the run as an error). */
  injectAssistFaults?: boolean;
}

export function runGuest(s: GuestSetup): RunResult {
  const hv = Hypervisor.open({ backend: s.backend });
  const machine = hv.createMachine();
  const ramSize = s.mode === 'long' ? LONG.RAM : 0x100000;
  const ram = machine.allocate(ramSize);
  ram.bytes.set(s.image, 0);
  for (const [gpa, bytes] of s.preload ?? []) ram.bytes.set(bytes, gpa);
  const dataPage = s.dataGpa - (s.dataGpa % 4096);
  if (s.mode === 'real') {
    machine.map(0, ram, { size: dataPage });
    if (dataPage + 4096 < ramSize) machine.map(dataPage + 4096, ram, { offset: dataPage + 4096, size: ramSize - dataPage - 4096 });
  } else machine.map(0, ram);
  let data: Uint8Array;
  const dev = new ByteDevice(s.dataGpa, s.dataInit);
  if (s.dataAsRam) {
    const page = machine.allocate(4096);
    page.bytes.set(s.dataInit);
    machine.map(s.dataGpa, page);
    data = page.bytes;
  } else data = dev.bytes;
  const cpu = machine.createVcpu(0);
  const st: VcpuStateInput = s.mode === 'long'
    ? longModeState({ ram: ram.bytes, ramGpa: 0, tablesGpa: LONG.TABLES, mapBytes: 4 << 20 }, { entry: 0, stack: LONG.STACK, cpl: s.cpl ?? 3 })
    : realModeState(0, 0, 0xfffe);
  // IF=1, IOPL=0: what PVM forces at CPL3 anyway (so the logged RFLAGS agree across backends).
  st.gprs = { ...st.gprs, rflags: s.mode === 'long' ? 0x202n : 0x2n, ...s.gprs };
  cpu.setState(st);
  s.setup?.(cpu);
  let memExits = 0, ioExits = 0;
  const accesses: string[] = [], injected: number[] = [];
  const handle = (req: MemRequest): void => {
    accesses.push(`${req.write ? 'w' : 'r'} ${(req.gpa - s.dataGpa).toString(16)}/${req.size}`);
    dev.handle(req);
  };
  const max = s.maxExits ?? 100000;
  for (let i = 0; ; i++) {
    if (i >= max) throw new Error(`guest did not finish in ${max} exits`);
    const exit = cpu.run();
    if (exit.reason === 'memory' && exit.gpa === DONE_GPA) {
      break;
    } else if (exit.reason === 'memory') {
      memExits++;
      try {
        cpu.assistMem(exit, handle);
      } catch (e) {
        if (!(s.injectAssistFaults && e instanceof AssistFault)) throw e;
        injected.push(e.vector);
        if (e.cr2 !== undefined) cpu.setState({ crs: { cr2: BigInt.asUintN(64, BigInt(e.cr2)) } });
        cpu.inject({ type: 'exception', vector: e.vector, ...(e.errorCode === undefined ? {} : { errorCode: e.errorCode }) });
      }
    } else if (exit.reason === 'io' && exit.port === DONE_PORT && !exit.in) {
      break;
    } else if (exit.reason === 'io' && s.io) {
      ioExits++;
      cpu.assistIo(exit, s.io);
    } else {
      const rip = cpu.getState().gprs?.rip;
      throw new Error(`unexpected exit ${JSON.stringify(exit, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))} at rip 0x${rip?.toString(16)}`);
    }
  }
  return { hv, ram: ram.bytes, data, memExits, ioExits, cpu, machine, accesses, injected };
}
