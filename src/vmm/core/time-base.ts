/**
 * What "now" is for the devices, per backend.
 *
 * KVM: the guest's TSC runs at the host's rate, so devices run on the host's monotonic clock.
 *
 * Soft: the TSC is instructions retired (deterministic), and the soft CPU runs far slower than
 * hardware, unevenly (an I/O exit costs as much as thousands of instructions). Timers on host
 * time would disagree with the TSC: Linux calibrated a 0.14 MHz TSC against the PM timer, then
 * saw seconds pass inside loops and reported soft lockups. So devices run on guest time: one
 * instruction retired is one nanosecond (a 1 GHz TSC), which every clock the guest can read
 * (TSC, PIT, PM timer, RTC, LAPIC timer) then agrees on, as with QEMU's -icount. When the guest
 * halts, guest time follows host time (icount's sleep=on): the loop waits for real until the next
 * deadline, then moves the TSC forward by the time waited.
 */
import { State } from '../../api/types.js';
import type { Vcpu } from '../../frontend/index.js';
import type { Clock } from '../bus/clock.js';

export interface TimeBase extends Clock {
  /** After every exit: catch up with the vCPU. */
  afterExit(): void;
  /** Host monotonic ns at which the deadline timer should stop the vCPU for a device deadline. */
  hostDeadline(deviceNs: number): number;
  /** The guest halted with nothing to do before deviceNs: let that much time pass (wait(ms) blocks, returns early on host input). */
  idle(deviceNs: number, wait: (ms: number) => void): void;
  /**
   * Where guest time is instructions retired: how many the vCPU may run before deviceNs (at
   * least 1), so that run() stops exactly there (RunLimit); undefined: no deadline.
   */
  instructionBudget?(deviceNs: number): number | undefined;
}

export const hostNow = (): number => Number(process.hrtime.bigint());

/** Longest single sleep of a halted guest; host input and quit requests are looked at in between. */
const MAX_IDLE_MS = 1000;

export class HostTimeBase implements TimeBase {
  now(): number { return hostNow(); }
  afterExit(): void {}
  hostDeadline(deviceNs: number): number { return deviceNs; }
  idle(deviceNs: number, wait: (ms: number) => void): void {
    const ms = (deviceNs - hostNow()) / 1e6;
    if (ms > 0) wait(Math.min(ms, MAX_IDLE_MS));
  }
}

/** Guest time: TSC ticks at TSC_HZ, one per instruction retired on the soft CPU. */
export const TSC_HZ = 1_000_000_000;
/** Starting guess of the soft CPU's speed (instructions per host ns), refined from every run. */
const INITIAL_RATE = 0.03;

export class InstructionTimeBase implements TimeBase {
  private tsc = 0n;
  /** The guest TSC at device time 0 (the LAPIC's TSC-deadline mapping). */
  readonly tsc0: bigint;
  /** Instructions per host ns, measured over the runs between exits. */
  private rate = INITIAL_RATE;
  private lastHost = hostNow();

  constructor(private readonly cpu: Vcpu) {
    this.tsc0 = this.readTsc();
    this.tsc = this.tsc0;
  }

  private readTsc(): bigint {
    return this.cpu.getState(State.MSRS).msrs!.tsc;
  }

  now(): number {
    return Number(this.tsc - this.tsc0) * (1e9 / TSC_HZ);
  }

  afterExit(): void {
    const tsc = this.readTsc();
    const host = hostNow();
    const ran = Number(tsc - this.tsc), took = host - this.lastHost;
    // Only runs long enough to say something about the speed (short ones are exit overhead).
    if (took > 200_000 && ran > 0) this.rate = 0.7 * this.rate + 0.3 * (ran / took);
    this.tsc = tsc;
    this.lastHost = host;
  }

  /** Instructions the guest retires from now until deviceNs (not rounded; negative when past). */
  private instructionsUntil(deviceNs: number): number {
    return (deviceNs - this.now()) * (TSC_HZ / 1e9);
  }

  hostDeadline(deviceNs: number): number {
    if (!Number.isFinite(deviceNs)) return Infinity;
    return hostNow() + Math.max(0, this.instructionsUntil(deviceNs)) / this.rate;
  }

  instructionBudget(deviceNs: number): number | undefined {
    if (!Number.isFinite(deviceNs)) return undefined;
    // A deadline months of guest time away: the largest limit run() takes; later exits recompute it.
    return Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.ceil(this.instructionsUntil(deviceNs))));
  }

  idle(deviceNs: number, wait: (ms: number) => void): void {
    const before = hostNow();
    const ms = Math.min((deviceNs - this.now()) / 1e6, MAX_IDLE_MS);
    if (ms > 0) wait(ms);
    const waited = BigInt(Math.max(0, Math.round((hostNow() - before) * (TSC_HZ / 1e9))));
    const target = this.tsc + (Number.isFinite(deviceNs) ? bigMin(waited, BigInt(Math.ceil(this.instructionsUntil(deviceNs)))) : waited);
    if (target > this.tsc) {
      this.cpu.setState({ msrs: { tsc: target } }, State.MSRS);
      this.tsc = target;
    }
    this.lastHost = hostNow();
  }
}

function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
