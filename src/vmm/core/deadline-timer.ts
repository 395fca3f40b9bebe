/**
 * Wakes the vCPU at the devices' next deadline. The vCPU thread is inside cpu.run() while the
 * guest computes, so a timer interrupt due meanwhile needs another thread to stop it: this
 * worker sleeps until the armed deadline and then calls stopVcpu. The vCPU loop re-arms it after
 * every exit with the earliest deadline of all devices.
 */
import { Worker } from 'node:worker_threads';
import { VmmError } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';
import { TIMER_SLOT, TIMER_WORDS } from './deadline-timer-slots.js';

export class DeadlineTimer {
  private readonly ctl: Int32Array;
  /** The deadline (ns, host monotonic) as two int32 halves would be awkward: a Float64 view of its own. */
  private readonly deadline: Float64Array;
  private worker: Worker | undefined;
  private armed = Infinity;

  /**
   * buffers: control words other threads hold too, to kick the vCPU (vcpu-kick.ts); default:
   * private ones. The deadline is this object's alone: only the vCPU's own thread arms it.
   *
   * The thread starts at once when other threads may kick through it, else at the first finite
   * deadline: a soft vCPU on guest time (time-base.ts InstructionTimeBase) stops itself at each
   * deadline and never arms one, and a thread it never needed cost ~0.2-0.3 s of CPU (a Node
   * worker's start and module loading) and held up the boot while it started.
   */
  constructor(private readonly stop: VcpuStopHandle, buffers?: { timerCtl: SharedArrayBuffer }) {
    this.ctl = new Int32Array(buffers?.timerCtl ?? new SharedArrayBuffer(TIMER_WORDS * 4));
    this.deadline = new Float64Array(new SharedArrayBuffer(8));
    this.deadline[0] = Infinity;
    if (buffers !== undefined) this.start();
  }

  /** Whether the timer's thread runs (started by a kick buffer or a finite deadline). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  private start(): void {
    const worker = new Worker(new URL('./deadline-timer-worker.js', import.meta.url), {
      workerData: { ctl: this.ctl.buffer, deadline: this.deadline.buffer, stop: this.stop },
    });
    this.worker = worker;
    worker.on('error', () => {});
    worker.unref();
    const until = Date.now() + 10_000;
    while (Atomics.load(this.ctl, TIMER_SLOT.STARTED) === 0) {
      if (Atomics.load(this.ctl, TIMER_SLOT.FAILED) !== 0 || Date.now() > until) {
        throw new VmmError('EIO', 'the deadline timer thread did not start');
      }
      Atomics.wait(this.ctl, TIMER_SLOT.STARTED, 0, 50);
    }
  }

  /** Arms the timer for ns (Infinity: none). A later deadline than the armed one also takes effect. */
  arm(ns: number): void {
    if (ns === this.armed) return;
    this.armed = ns;
    this.deadline[0] = ns;
    if (this.worker === undefined) {
      if (Number.isFinite(ns)) this.start();
      return;
    }
    Atomics.add(this.ctl, TIMER_SLOT.GENERATION, 1);
    Atomics.notify(this.ctl, TIMER_SLOT.GENERATION);
  }

  async close(): Promise<void> {
    if (this.worker === undefined) return;
    Atomics.store(this.ctl, TIMER_SLOT.QUIT, 1);
    Atomics.add(this.ctl, TIMER_SLOT.GENERATION, 1);
    Atomics.notify(this.ctl, TIMER_SLOT.GENERATION);
    await this.worker.terminate();
  }
}
