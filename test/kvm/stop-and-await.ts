/**
 * For helper workers that stop a vCPU blocked in run() on the test's main thread: stop it, then
 * wait for the main thread to say run() returned. A stop not answered within 2 s is sent again
 * and counted (a lost wakeup shows as a count > 0 instead of a hang); after 5 unanswered resends,
 * or when stopVcpu itself throws, the whole process is killed: process.exit in a worker ends only
 * the worker, and would leave the main thread spinning in the guest.
 */
import { stopVcpu } from '../../src/index.js';
import type { VcpuStopHandle } from '../../src/index.js';

const RESEND_MS = 2_000, RESENDS = 5;

function killProcess(why: string): never {
  console.error(`stop worker: ${why}; killing the process so that the test fails instead of hanging`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** Stops the vCPU, then waits for done[0] != 0; returns how many times the stop had to be resent. */
export function stopAndAwait(handle: VcpuStopHandle, done: Int32Array): number {
  let resent = 0;
  for (;;) {
    try {
      stopVcpu(handle);
    } catch (e) {
      killProcess(`stopVcpu threw ${String(e)}`);
    }
    if (Atomics.wait(done, 0, 0, RESEND_MS) !== 'timed-out') return resent;
    if (++resent > RESENDS) killProcess(`run() did not return after ${RESENDS} resent stops`);
  }
}
