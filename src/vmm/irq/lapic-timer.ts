/**
 * The local APIC timer (Intel SDM vol. 3A "APIC Timer" and "TSC-Deadline Mode"): a 32-bit
 * down-counter clocked by the APIC bus (APIC_BUS_HZ, one tick per ns) through the divide
 * configuration, in one-shot or periodic mode, or a comparator against the guest's TSC in
 * TSC-deadline mode. Time comes only from the `now` the LAPIC passes in; the timer computes the
 * current count from it instead of ticking, so any amount of time can pass between calls and
 * nothing loops over elapsed periods.
 *
 * The timer knows nothing of masking or vectors: when a zero crossing or deadline is processed it
 * calls onExpire(), and the LAPIC decides what the LVT timer entry says. The LAPIC calls poll()
 * with the current time before every guest-visible access ("settling"), so an expiry always
 * happens under the LVT configuration that was in force when it was due.
 */
import { VmmError } from '../../api/errors.js';
import { APIC_BUS_HZ, TimerMode, type TimerModeValue } from './lapic-registers.js';

const NS_PER_SECOND = 1_000_000_000;
const NS_PER_SECOND_BIG = 1_000_000_000n;

/** How guest TSC values map to the monitor's clock: tsc(ns) = offset() + ns * hz / 1e9. */
export interface TscMapping {
  /** Guest TSC frequency in Hz (positive integer). */
  hz: number;
  /** The guest TSC value at clock time 0; read on every conversion, so the monitor may change it. */
  offset: () => bigint;
}

export class LapicTimer {
  private mode: TimerModeValue = TimerMode.ONE_SHOT;
  private divisor = 2;
  private initial = 0;
  /** Count-down modes: counting, with countAtBase ticks left at baseNs. */
  private running = false;
  private baseNs = 0;
  private countAtBase = 0;
  /** The next zero crossing not yet processed (count-down modes, while running). */
  private nextExpiryNs = Infinity;
  /** IA32_TSC_DEADLINE; 0 = disarmed. */
  private deadline = 0n;
  private readonly nsPerTickBase = NS_PER_SECOND / APIC_BUS_HZ;

  constructor(private readonly tsc: TscMapping, private readonly onExpire: () => void) {
    if (!Number.isSafeInteger(tsc.hz) || tsc.hz <= 0) {
      throw new VmmError('EINVAL', `LAPIC TSC frequency must be a positive integer in Hz, got ${tsc.hz}`);
    }
  }

  /** Back to the power-up state: one-shot, divide by 2, stopped, deadline disarmed. */
  reset(): void {
    this.mode = TimerMode.ONE_SHOT;
    this.divisor = 2;
    this.stop();
    this.initial = 0;
    this.deadline = 0n;
  }

  get initialCount(): number {
    return this.initial;
  }

  get timerMode(): TimerModeValue {
    return this.mode;
  }

  /**
   * LVT timer bits 18:17 changed. The SDM: a write that changes the timer mode disarms the timer.
   * As KVM does, the initial count and the deadline are cleared too, so a stale count never
   * restarts in the new mode.
   */
  setMode(mode: TimerModeValue): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.stop();
    this.initial = 0;
    this.deadline = 0n;
  }

  /** Divide configuration changed: the count so far stands, later ticks use the new divisor. */
  setDivisor(divisor: number, now: number): void {
    if (divisor === this.divisor) return;
    if (this.running) this.rebase(this.currentCount(now), now);
    this.divisor = divisor;
    if (this.running) this.nextExpiryNs = this.baseNs + this.countAtBase * this.nsPerTick();
  }

  /**
   * A write to the initial-count register: restarts counting from value (0 stops the timer). In
   * TSC-deadline mode it is ignored, as the SDM says; in the reserved mode 3 it is stored but
   * nothing counts.
   */
  writeInitialCount(value: number, now: number): void {
    if (this.mode === TimerMode.TSC_DEADLINE) return;
    this.initial = value >>> 0;
    this.stop();
    if (this.initial === 0 || this.mode === TimerMode.RESERVED) return;
    this.running = true;
    this.rebase(this.initial, now);
    this.nextExpiryNs = now + this.initial * this.nsPerTick();
  }

  /** The current-count register: 0 when stopped, expired (one-shot) or in TSC-deadline mode. */
  currentCount(now: number): number {
    if (!this.running) return 0;
    const ticks = Math.floor(Math.max(0, now - this.baseNs) / this.nsPerTick());
    if (ticks < this.countAtBase) return this.countAtBase - ticks;
    if (this.mode !== TimerMode.PERIODIC) return 0;
    return this.initial - ((ticks - this.countAtBase) % this.initial);
  }

  /** RDMSR IA32_TSC_DEADLINE: the armed deadline; 0 when disarmed or not in TSC-deadline mode. */
  readDeadline(): bigint {
    return this.mode === TimerMode.TSC_DEADLINE ? this.deadline : 0n;
  }

  /** WRMSR IA32_TSC_DEADLINE: arms (or moves) the deadline; 0 disarms; ignored outside TSC-deadline mode. */
  writeDeadline(value: bigint): void {
    if (this.mode !== TimerMode.TSC_DEADLINE) return;
    this.deadline = BigInt.asUintN(64, value);
  }

  /** The guest TSC at clock time ns. */
  tscAt(ns: number): bigint {
    return this.tsc.offset() + (BigInt(Math.floor(ns)) * BigInt(this.tsc.hz)) / NS_PER_SECOND_BIG;
  }

  /** The first clock time (ns, rounded up) at which the guest TSC reaches value. */
  nsForTsc(value: bigint): number {
    const delta = value - this.tsc.offset();
    if (delta <= 0n) return -Infinity;
    const hz = BigInt(this.tsc.hz);
    return Number((delta * NS_PER_SECOND_BIG + hz - 1n) / hz);
  }

  /**
   * Processes what is due at now (at most one onExpire() per call, however late the call is: a
   * periodic timer that missed several periods raises once, as an IRR bit would merge them) and
   * returns the next deadline in ns, or Infinity.
   */
  poll(now: number): number {
    if (this.mode === TimerMode.TSC_DEADLINE) {
      if (this.deadline === 0n) return Infinity;
      const due = this.nsForTsc(this.deadline);
      if (now < due) return due;
      this.deadline = 0n; // firing disarms and clears the MSR
      this.onExpire();
      return this.nextDeadline();
    }
    if (!this.running) return Infinity;
    if (now < this.nextExpiryNs) return this.nextExpiryNs;
    if (this.mode === TimerMode.PERIODIC) {
      const period = this.initial * this.nsPerTick();
      const missed = Math.floor((now - this.nextExpiryNs) / period) + 1;
      this.nextExpiryNs += missed * period;
    } else {
      this.running = false;
      this.nextExpiryNs = Infinity;
    }
    this.onExpire();
    return this.nextDeadline();
  }

  /** The next time something is due, without processing anything (onExpire() may have reprogrammed the timer). */
  nextDeadline(): number {
    if (this.mode === TimerMode.TSC_DEADLINE) return this.deadline === 0n ? Infinity : this.nsForTsc(this.deadline);
    return this.running ? this.nextExpiryNs : Infinity;
  }

  private stop(): void {
    this.running = false;
    this.nextExpiryNs = Infinity;
  }

  private rebase(count: number, now: number): void {
    this.countAtBase = count;
    this.baseNs = now;
  }

  private nsPerTick(): number {
    return this.nsPerTickBase * this.divisor;
  }
}
