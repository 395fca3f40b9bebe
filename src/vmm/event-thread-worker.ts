/**
 * toyvirt's event thread (a worker_thread): every intervalMs it asks in turn for a #GP, an NMI
 * and a hardware interrupt (the last only while the guest's CR8 is below 15), posting the request
 * in shared memory and stopping the vCPU so that the vCPU loop injects it.
 *
 * The vCPU thread may be inside the guest, or blocked, and unable to see this worker's 'error'
 * event: every failure, including failing to load the API, is said on stderr here and flagged
 * in shared memory (SLOT.FAILED), which the vCPU loop checks.
 */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { VcpuStopHandle } from '../api/types.js';
import { CR8_BLOCKS_INTERRUPTS, EVENT_KINDS, RING_SIZE, SLOT } from './event-requests.js';

interface EventThreadData { shared: SharedArrayBuffer; stop: VcpuStopHandle; intervalMs: number }

const { shared, stop, intervalMs } = workerData as EventThreadData;
const ctl = new Int32Array(shared);

function fail(e: unknown): void {
  writeSync(2, `toyvirt: event thread: ${(e as Error).message}\n`);
  Atomics.store(ctl, SLOT.FAILED, 1);
  Atomics.notify(ctl, SLOT.STARTED);
  Atomics.notify(ctl, SLOT.POSTED);
}

async function tick(): Promise<void> {
  // Loaded here rather than imported statically, so that a failure to load is caught and flagged.
  const { stopVcpu } = await import('../frontend/stop.js');
  Atomics.store(ctl, SLOT.STARTED, 1);
  Atomics.notify(ctl, SLOT.STARTED);
  for (let next = 0; ; next = (next + 1) % EVENT_KINDS.length) {
    // Sleeps one interval, or returns early when the vCPU loop sets QUIT.
    if (Atomics.wait(ctl, SLOT.QUIT, 0, intervalMs) !== 'timed-out') return;
    if (EVENT_KINDS[next] === 'interrupt' && Atomics.load(ctl, SLOT.CR8) >= CR8_BLOCKS_INTERRUPTS) continue;
    const posted = Atomics.load(ctl, SLOT.POSTED);
    // A guest that takes no events leaves requests queued: skip ticks rather than overrun the ring.
    if (posted - Atomics.load(ctl, SLOT.TAKEN) >= RING_SIZE) continue;
    Atomics.store(ctl, SLOT.RING + (posted % RING_SIZE), next);
    Atomics.store(ctl, SLOT.POSTED, posted + 1);
    Atomics.notify(ctl, SLOT.POSTED);
    stopVcpu(stop);
  }
}

await tick().catch(fail);
