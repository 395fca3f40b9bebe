/**
 * The vCPU loop's side of toyvirt's event thread: starts the worker, hands out the requests it
 * posted one at a time, publishes CR8, and shuts the worker down.
 */
import { Worker } from 'node:worker_threads';
import { VmmError } from '../api/errors.js';
import type { VcpuStopHandle } from '../api/types.js';
import { EVENT_KINDS, RING_SIZE, SHARED_BYTES, SLOT, START_TIMEOUT_MS, type EventKind } from './event-requests.js';

export class EventThread {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
  private readonly worker: Worker;
  private taken = 0;

  constructor(stop: VcpuStopHandle, intervalMs: number) {
    this.worker = new Worker(new URL('./event-thread-worker.js', import.meta.url), {
      workerData: { shared: this.ctl.buffer, stop, intervalMs },
    });
    // Failures reach the vCPU loop through SLOT.FAILED (it may be blocked and miss events).
    this.worker.on('error', () => {});
  }

  /**
   * Blocks until the worker runs: a guest that never exits must not be started before the only
   * thread that can stop it (and the first interval counts from here, not from thread start-up).
   */
  waitUntilStarted(): void {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Atomics.load(this.ctl, SLOT.STARTED) === 0) {
      this.checkHealthy();
      const left = deadline - Date.now();
      if (left <= 0) throw new VmmError('EIO', `the event thread did not start within ${START_TIMEOUT_MS} ms`);
      Atomics.wait(this.ctl, SLOT.STARTED, 0, left);
    }
  }

  /** Records the guest's CR8 as of the latest exit. */
  noteCr8(cr8: bigint): void {
    Atomics.store(this.ctl, SLOT.CR8, Number(cr8 & 0xfn));
  }

  /** True when a posted request has not been taken yet. */
  waiting(): boolean {
    this.checkHealthy();
    return Atomics.load(this.ctl, SLOT.POSTED) !== this.taken;
  }

  /** The oldest request not yet taken, if any. */
  take(): EventKind | undefined {
    if (!this.waiting()) return undefined;
    const kind = EVENT_KINDS[Atomics.load(this.ctl, SLOT.RING + (this.taken % RING_SIZE))]!;
    this.taken++;
    Atomics.store(this.ctl, SLOT.TAKEN, this.taken);
    return kind;
  }

  /** Blocks this thread until the event thread posts its next request, or timeoutMs passed. */
  waitForNextPost(timeoutMs = Infinity): void {
    const seen = Atomics.load(this.ctl, SLOT.POSTED);
    const until = Date.now() + timeoutMs;
    for (;;) {
      this.checkHealthy();
      const left = until - Date.now();
      if (Atomics.load(this.ctl, SLOT.POSTED) !== seen || left <= 0) return;
      // Bounded, so that a failure flagged without a notify is still seen.
      Atomics.wait(this.ctl, SLOT.POSTED, seen, Math.min(left, 1000));
    }
  }

  /** Ends the worker (whatever state it is in) and waits until it has exited. */
  async close(): Promise<void> {
    Atomics.store(this.ctl, SLOT.QUIT, 1);
    Atomics.notify(this.ctl, SLOT.QUIT);
    await this.worker.terminate();
  }

  private checkHealthy(): void {
    if (Atomics.load(this.ctl, SLOT.FAILED) !== 0) {
      throw new VmmError('EIO', 'the event thread failed (its error is on stderr)');
    }
  }
}
