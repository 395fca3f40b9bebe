/**
 * The monitor's vCPU loop: run, then one case per exit reason in one switch. Before each run it
 * lets the devices' timers raise what is due, re-arms the deadline timer, takes host input, and
 * injects the highest pending interrupt when the guest can take it (else asks for the window), or
 * an exception its source asks for (toyvirt's event thread).
 * Ports and MMIO nobody decodes behave as an open bus on a PC: reads return all ones, writes
 * vanish (Linux probes for hardware that way).
 */
import { VmmError, hex } from '../../api/errors.js';
import { State, type ExitState, type MemoryExit, type RdmsrExit, type VcpuEvent, type VmExit, type WrmsrExit } from '../../api/types.js';
import type { Vcpu } from '../../frontend/index.js';
import type { DeadlineTimer } from './deadline-timer.js';
import type { TimeBase } from './time-base.js';
import type { PowerEvent } from './platform.js';
import type { IoRequest, MemRequest } from '../../api/types.js';
import type { MsrSpace } from './msr-space.js';
import { withGuestFaults } from '../assist-faults.js';

export type ExceptionEvent = Extract<VcpuEvent, { type: 'exception' }>;

/** Where external interrupts come from: the vCPU's LAPIC (with the 8259 behind it). */
export interface InterruptSource {
  /**
   * An exception another thread asks for (toyvirt's event thread sends #GP), taken: asked only
   * while the vCPU holds no event, since a CPU takes one exception at a time.
   */
  takeException?(): ExceptionEvent | undefined;
  /** An NMI to inject now (taken), whatever IF says. */
  takeNmi(): boolean;
  /** An interrupt is waiting to be taken by the CPU. */
  pending(): boolean;
  /** The INTA cycle: the vector to deliver now (undefined: it went away). */
  take(): number | undefined;
  /** An INIT arrived (taken): the loop returns so that the vCPU waits for a SIPI (application processors). */
  takeInit?(): boolean;
}

/** What the loop needs of the platform: a bus, the devices' timers, and whether the machine ended. */
export interface LoopPlatform {
  readonly bus: { routeIo(req: IoRequest): boolean; routeMem(req: MemRequest): boolean };
  /** Raises every interrupt due at now; the earliest next deadline (ns), or Infinity. */
  poll(now: number): number;
  readonly power: PowerEvent | undefined;
}

export type MachineEnd =
  | { kind: 'power'; event: PowerEvent }
  | { kind: 'triple-fault'; rip: bigint };

const RFLAGS_IF = 1n << 9n;
const VECTOR_GP = 13;

export interface VcpuLoopHooks {
  /** Before each run: hand host input to the devices, pass their output on. */
  beforeRun?: () => void;
  /** Blocks until host input may have arrived or timeoutMs passed (halted guest, nothing due). */
  waitForInput?: (timeoutMs: number) => void;
  /** The machine should stop (e.g. the user quit): checked before each run. */
  quitRequested?: () => boolean;
  /**
   * Right before each run, after everything the loop does between runs (devices included): where
   * the monitor announces its writes to guest RAM (host-writes.ts).
   */
  enteringGuest?: () => void;
  /** Every exit, before the loop handles it (toyvirt watches the guest's CR8 and windows). */
  afterExit?: (exit: VmExit) => void;
}

/** The guest takes an external interrupt at the next instruction boundary: IF set, no STI/MOV SS shadow. */
export function interruptWindowOpen(st: ExitState): boolean {
  return (st.rflags & RFLAGS_IF) !== 0n && !st.intShadow;
}

export class VcpuLoop {
  private last: ExitState | undefined;
  /** The device deadline the timer thread is armed for; re-armed when it changes or the timer fired. */
  private armedFor = NaN;
  /** run() returned because an INIT arrived (see InterruptSource.takeInit). */
  initReceived = false;
  /** Handling the last exit injected an exception (#GP for an MSR, a fault in an assist): the vCPU holds it. */
  private exceptionInjected = false;

  constructor(
    private readonly cpu: Vcpu,
    private readonly platform: LoopPlatform,
    private readonly interrupts: InterruptSource,
    private readonly timer: DeadlineTimer,
    private readonly time: TimeBase,
    private readonly msrs: MsrSpace,
    private readonly hooks: VcpuLoopHooks = {},
  ) {}

  run(): MachineEnd | undefined {
    for (;;) {
      if (this.hooks.quitRequested?.()) return undefined;
      const next = this.service();
      const power = this.platform.power;
      if (power) return { kind: 'power', event: power };
      if (this.interrupts.takeInit?.()) {
        this.initReceived = true;
        return undefined;
      }
      this.deliver();
      // Guest time that is instructions retired: the run stops exactly at the next deadline.
      const budget = this.time.instructionBudget?.(next);
      this.hooks.enteringGuest?.();
      const exit = budget === undefined ? this.cpu.run() : this.cpu.run({ maxInstructions: budget });
      this.time.afterExit();
      this.last = exit.exitState;
      this.exceptionInjected = false;
      this.hooks.afterExit?.(exit);
      const end = this.handle(exit, next);
      if (end) return end;
    }
  }

  /**
   * Timers and host input; arms the deadline timer (not needed where the run itself stops at the
   * deadline, see run()); returns the next deadline.
   */
  private service(): number {
    this.hooks.beforeRun?.();
    const next = this.platform.poll(this.time.now());
    if (next !== this.armedFor) {
      this.armedFor = next;
      this.timer.arm(this.time.instructionBudget === undefined ? this.time.hostDeadline(next) : Infinity);
    }
    return next;
  }

  private deliver(): void {
    if (this.deliverException()) return;
    if (this.interrupts.takeNmi()) {
      this.cpu.inject({ type: 'nmi' });
      return;
    }
    if (!this.interrupts.pending()) return;
    const st = this.last;
    // An event injected earlier is still held (a stop ended the run before it went in): run, so
    // that it goes in; the exit after says when the next can. A window asked for now would be
    // reported before the held event is delivered, every time: a livelock.
    if (st !== undefined && st.evtPending) return;
    if (st === undefined || !interruptWindowOpen(st)) {
      if (st === undefined || !st.intWindowExiting) this.cpu.setState({ intr: { intWindowExiting: true } }, State.INTR);
      return;
    }
    const vector = this.interrupts.take();
    if (vector === undefined) return;
    this.cpu.inject({ type: 'interrupt', vector });
    this.last = { ...st, evtPending: true };
  }

  /** An exception the source asks for, when the vCPU holds no event (the backend takes one exception at a time). */
  private deliverException(): boolean {
    if (!this.interrupts.takeException || this.exceptionInjected || this.last?.evtPending) return false;
    const exception = this.interrupts.takeException();
    if (exception === undefined) return false;
    this.cpu.inject(exception);
    return true;
  }

  private handle(exit: VmExit, deadline: number): MachineEnd | undefined {
    switch (exit.reason) {
      case 'io':
        this.exceptionInjected = withGuestFaults(this.cpu, () => this.cpu.assistIo(exit, (req) => {
          if (!this.platform.bus.routeIo(req) && req.in) req.data.fill(0xff);
        }));
        return undefined;
      case 'memory':
        this.mmio(exit);
        return undefined;
      case 'rdmsr':
      case 'wrmsr':
        this.msr(exit);
        return undefined;
      case 'halted':
        this.idle(deadline);
        return undefined;
      case 'stopped':
        // The deadline timer (host input, a kick) stopped it: the next service() hands the timer the
        // device deadline again (DeadlineTimer.arm ignores one it already holds).
        this.armedFor = NaN;
        return undefined;
      case 'int-ready':
      case 'nmi-ready':
      case 'tpr-changed':
        return undefined;
      case 'shutdown':
        return { kind: 'triple-fault', rip: this.cpu.getState(State.GPRS).gprs!.rip };
      case 'invalid':
        throw new VmmError('EIO', `the vCPU cannot continue at rip ${hex(this.cpu.getState(State.GPRS).gprs!.rip)}: ${exit.detail}`);
      case 'cpuid':
      case 'monitor':
      case 'mwait':
        throw new VmmError('ENOTSUP', `unexpected ${exit.reason} exit (the monitor did not ask for it)`);
    }
  }

  /** The platform's MSRs; others (neither the CPU's nor ours) are #GP, as hardware (Linux probes with rdmsr_safe). */
  private msr(exit: RdmsrExit | WrmsrExit): void {
    if (exit.reason === 'rdmsr') {
      const v = this.msrs.read(exit.msr);
      if (v !== undefined) {
        this.cpu.setState({ gprs: { rax: v & 0xffffffffn, rdx: v >> 32n, rip: exit.npc } }, State.GPRS);
        return;
      }
    } else if (this.msrs.write(exit.msr, exit.value)) {
      this.cpu.setState({ gprs: { rip: exit.npc } }, State.GPRS);
      return;
    }
    this.cpu.inject({ type: 'exception', vector: VECTOR_GP, errorCode: 0 });
    this.exceptionInjected = true;
  }

  private mmio(exit: MemoryExit): void {
    this.exceptionInjected = withGuestFaults(this.cpu, () => this.cpu.assistMem(exit, (req) => {
      if (!this.platform.bus.routeMem(req) && !req.write) req.data.fill(0xff);
    }));
  }

  /** HLT: let time pass until the next device deadline or host input, unless an interrupt is already waiting. */
  private idle(deadline: number): void {
    // A waiting interrupt wakes HLT only if the guest can take it (IF set); with IF clear (cli;
    // hlt) only an NMI or INIT can, so the loop waits instead of spinning on a held interrupt.
    if (this.interrupts.pending() && this.last !== undefined && (this.last.rflags & RFLAGS_IF) !== 0n) return;
    this.time.idle(deadline, this.hooks.waitForInput ?? sleep);
  }
}

const nap = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for ms (a halted guest's wait when nothing else can wake it). */
export function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}
