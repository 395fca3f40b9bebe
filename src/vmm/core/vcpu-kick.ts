/**
 * Waking a vCPU from another thread, for a monitor whose vCPUs run in several threads: an IPI or
 * an answer for it may arrive while it is inside cpu.run() or asleep in a halted guest's wait.
 * Each vCPU has a doorbell word (its idle wait sleeps on it) and its deadline timer's control
 * words (deadline-timer.ts), made before its thread starts so that every thread can hold them.
 * A kick rings the doorbell and counts a kick in the timer's words: the timer thread, which holds
 * the vCPU's stop handle, stops it. The vCPU then finds what was posted before its next run.
 * The kick leaves the timer's deadline alone: were it to set the deadline to now, the vCPU's own
 * thread arming its next deadline at the same moment would overwrite it, and the kick would be
 * lost (a device request of another vCPU then waited forever on a vCPU spinning for it).
 */
import { TIMER_SLOT, TIMER_WORDS } from './deadline-timer-slots.js';

export interface DoorbellWord { buffer: SharedArrayBuffer; index: number }

export interface KickBuffers {
  doorbell: DoorbellWord;
  /** The deadline timer's control words (DeadlineTimer takes them). */
  timerCtl: SharedArrayBuffer;
}

/** A vCPU's kick buffers; doorbell: a word it already sleeps on (the host input's), else a new one. */
export function createKickBuffers(doorbell?: DoorbellWord): KickBuffers {
  return { doorbell: doorbell ?? { buffer: new SharedArrayBuffer(4), index: 0 }, timerCtl: new SharedArrayBuffer(TIMER_WORDS * 4) };
}

export class Doorbell {
  private readonly words: Int32Array;
  constructor(private readonly word: DoorbellWord) {
    this.words = new Int32Array(word.buffer);
  }
  ring(): void {
    Atomics.add(this.words, this.word.index, 1);
    Atomics.notify(this.words, this.word.index);
  }
  /** Sleeps up to ms, or until rung; ready() is asked after the bell is read, so no ring is missed. */
  wait(ms: number, ready?: () => boolean): void {
    const bell = Atomics.load(this.words, this.word.index);
    if (ready?.()) return;
    Atomics.wait(this.words, this.word.index, bell, ms);
  }
}

/** Another thread's handle on a vCPU: kick() makes it leave run() or its idle wait soon. */
export class VcpuKick {
  private readonly doorbell: Doorbell;
  private readonly ctl: Int32Array;
  constructor(b: KickBuffers) {
    this.doorbell = new Doorbell(b.doorbell);
    this.ctl = new Int32Array(b.timerCtl);
  }
  kick(): void {
    // KICKS before GENERATION: the order the timer thread's reads rely on (deadline-timer-worker.ts).
    Atomics.add(this.ctl, TIMER_SLOT.KICKS, 1);
    Atomics.add(this.ctl, TIMER_SLOT.GENERATION, 1);
    Atomics.notify(this.ctl, TIMER_SLOT.GENERATION);
    this.doorbell.ring();
  }
}
