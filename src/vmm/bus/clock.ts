/**
 * Time as devices see it. A device with timers (PIT, RTC, LAPIC timer, UART transmit pacing) is
 * given a Clock at construction and never reads the host clock itself, so tests drive time by hand
 * and the monitor decides what "now" is (host monotonic time, or a virtual time base).
 *
 * A device whose timers raise interrupts exposes poll(now): it raises what is due at now and
 * returns its next deadline in ns (Infinity when none). The monitor calls poll() at the earliest
 * deadline of all devices and after every access that may have changed them.
 */
export interface Clock {
  /** Monotonic nanoseconds; only differences are meaningful. */
  now(): number;
}

/** A clock that moves only when told to: for tests. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ns: number): void {
    this.t += ns;
  }
}
