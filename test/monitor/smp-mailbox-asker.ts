/**
 * An application processor's device accesses, for smp-wakeups.test.ts: a thread that sends port
 * reads and writes through the device mailbox, kicking the boot vCPU for each, as ap-worker does.
 */
import { workerData } from 'node:worker_threads';
import { DeviceMailboxClient } from '../../src/vmm/core/device-mailbox.js';
import { VcpuKick, type KickBuffers } from '../../src/vmm/core/vcpu-kick.js';

export const MAILBOX_PORT = 0x80;

export interface MailboxAskerSetup { mailbox: SharedArrayBuffer; kick: KickBuffers; requests: number; done: SharedArrayBuffer }

function ask(setup: MailboxAskerSetup): void {
  const kick = new VcpuKick(setup.kick);
  const client = new DeviceMailboxClient(setup.mailbox, 1, () => kick.kick(), () => false);
  const data = new Uint8Array(1);
  for (let k = 0; k < setup.requests; k++) {
    client.io({ port: MAILBOX_PORT, in: true, size: 1, data });
    client.io({ port: MAILBOX_PORT, in: false, size: 1, data });
  }
  const done = new Int32Array(setup.done);
  Atomics.store(done, 0, 1);
  kick.kick();
}

if (workerData !== null && typeof workerData === 'object' && 'mailbox' in workerData) ask(workerData as MailboxAskerSetup);
