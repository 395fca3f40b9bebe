/**
 * The thread of one application processor (application-processor.ts); started by the boot vCPU's
 * thread. Whatever ends this thread with an error, even while loading its code, ends the machine
 * through its end flag: the boot thread is inside the guest and handles no worker events, so an
 * 'error' event alone would go unseen, and the guest would wait for a CPU that is gone.
 */
import { workerData } from 'node:worker_threads';
import type { ApSetup } from './application-processor.js';
import { MachineEndFlag } from './smp-fabric.js';
import { VcpuKick } from './vcpu-kick.js';

const setup = workerData as ApSetup;
try {
  const { runApplicationProcessor } = await import('./application-processor.js');
  runApplicationProcessor(setup);
} catch (e) {
  new MachineEndFlag(setup.fabric.end).fail(`vCPU ${setup.id} thread: ${(e as Error).message}`);
  new VcpuKick(setup.fabric.kicks[0]!).kick();
}
