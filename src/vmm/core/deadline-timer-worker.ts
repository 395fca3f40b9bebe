/**
 * The deadline timer's thread: sleeps until the armed deadline (or until it is re-armed or
 * kicked), then stops the vCPU so that its loop can raise the interrupts that fell due. A kick
 * (vcpu-kick.ts: another thread posted something for the vCPU) stops it at once and leaves the
 * armed deadline as it was.
 */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { VcpuStopHandle } from '../../api/types.js';
import { TIMER_SLOT } from './deadline-timer-slots.js';

const { ctl: ctlBuf, deadline: deadlineBuf, stop } = workerData as { ctl: SharedArrayBuffer; deadline: SharedArrayBuffer; stop: VcpuStopHandle };
const ctl = new Int32Array(ctlBuf);
const deadline = new Float64Array(deadlineBuf);
const now = (): number => Number(process.hrtime.bigint());

async function main(): Promise<void> {
  const { stopVcpu } = await import('../../frontend/stop.js');
  Atomics.store(ctl, TIMER_SLOT.STARTED, 1);
  Atomics.notify(ctl, TIMER_SLOT.STARTED);
  // From 0: a kick made before this thread ran (the vCPU's owner may kick right after start) still stops it.
  let kicksSeen = 0;
  while (Atomics.load(ctl, TIMER_SLOT.QUIT) === 0) {
    // GENERATION before KICKS: a kick bumps KICKS, then GENERATION, so one this read misses
    // changes GENERATION after it was read, and the wait below returns at once.
    const gen = Atomics.load(ctl, TIMER_SLOT.GENERATION);
    const kicks = Atomics.load(ctl, TIMER_SLOT.KICKS);
    if (kicks !== kicksSeen) {
      kicksSeen = kicks;
      stopVcpu(stop);
      continue;
    }
    const left = deadline[0]! - now();
    if (left <= 0) {
      stopVcpu(stop);
      // Fired: wait for the vCPU loop to arm the next deadline (or for a kick).
      Atomics.wait(ctl, TIMER_SLOT.GENERATION, gen);
      continue;
    }
    Atomics.wait(ctl, TIMER_SLOT.GENERATION, gen, Number.isFinite(left) ? Math.max(left / 1e6, 0.05) : undefined);
  }
}

main().catch((e: unknown) => {
  writeSync(2, `tsvisor: deadline timer thread: ${(e as Error).message}\n`);
  Atomics.store(ctl, TIMER_SLOT.FAILED, 1);
  Atomics.notify(ctl, TIMER_SLOT.STARTED);
});
