/**
 * Converting between nanoseconds and the ticks of an oscillator (the PIT's 1.193182 MHz, the RTC's
 * 32.768 kHz) exactly, in plain numbers: ns * hz overflows 2^53 after a few seconds, so the whole
 * seconds and the remainder are converted apart (each product stays below 2^53).
 */
const NS_PER_S = 1_000_000_000;

export class Timebase {
  constructor(readonly hz: number) {}

  /** The tick running at ns: floor(ns * hz / 1e9). */
  tickAt(ns: number): number {
    const whole = Math.floor(ns / NS_PER_S);
    const rest = ns - whole * NS_PER_S;
    return whole * this.hz + Math.floor((rest * this.hz) / NS_PER_S);
  }

  /** The first ns at which tickAt() reaches tick: ceil(tick * 1e9 / hz). */
  nsAtTick(tick: number): number {
    const whole = Math.floor(tick / this.hz);
    const rest = tick - whole * this.hz;
    return whole * NS_PER_S + Math.ceil((rest * NS_PER_S) / this.hz);
  }
}

/** The 8254 PIT's input clock on a PC: 14.31818 MHz / 12. */
export const PIT_TIMEBASE = new Timebase(1_193_182);
/** The MC146818 RTC's time base: a 32.768 kHz crystal. */
export const RTC_TIMEBASE = new Timebase(32_768);
