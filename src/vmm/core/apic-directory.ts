/**
 * The LAPICs of vCPUs in other threads, as the APIC bus of this thread sees them: each vCPU's
 * thread publishes what routing needs of its LAPIC (enabled, APIC ID, logical ID and model,
 * arbitration priority) into shared words after every exit, and RemoteApic answers from those
 * words. A message for a remote LAPIC goes into its vCPU's inbox, and the vCPU is kicked.
 * Focus-processor checking is not done across threads (isFocusFor is false for a remote LAPIC:
 * lowest-priority delivery then picks by arbitration priority, which the SDM allows).
 */
import { matchesDestination, type DestinationMode, type InterruptMessage } from '../irq/lapic-message.js';
import type { Lapic, RoutableApic } from '../irq/lapic.js';
import { DFR_FLAT } from '../irq/lapic-registers.js';
import { InterruptInbox } from './interrupt-inbox.js';
import { VcpuKick, type KickBuffers } from './vcpu-kick.js';

const ENABLED = 0, APIC_ID = 1, LOGICAL_ID = 2, MODEL = 3, APR = 4, WORDS = 5;

/**
 * Each vCPU's entry starts as its LAPIC is at power-on (enabled, APIC ID = vCPU id, LDR 0, flat
 * model, priority 0), before its thread has published anything: the boot vCPU may send INIT and
 * SIPI to an application processor whose thread is still starting, and a LAPIC that matched no
 * destination until then would lose them (the messages wait in its inbox instead).
 */
export function createApicDirectory(vcpus: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(vcpus * WORDS * 4);
  for (let k = 0; k < vcpus; k++) {
    const w = new Int32Array(buffer, k * WORDS * 4, WORDS);
    w[ENABLED] = 1; w[APIC_ID] = k; w[LOGICAL_ID] = 0; w[MODEL] = DFR_FLAT; w[APR] = 0;
  }
  return buffer;
}

/** Publishes one vCPU's LAPIC (its own thread calls this after every exit). */
export function publishLapic(directory: SharedArrayBuffer, index: number, lapic: Lapic): void {
  const w = new Int32Array(directory, index * WORDS * 4, WORDS);
  const a = lapic.address;
  w[APIC_ID] = a.apicId; w[LOGICAL_ID] = a.logicalId; w[MODEL] = a.model; w[APR] = lapic.arbitrationPriority;
  Atomics.store(w, ENABLED, lapic.matchesDestination(0xff, 'physical') ? 1 : 0);
}

/** What an APIC bus delivers to: a LAPIC here, or one in another thread. */
export interface ApicEndpoint extends RoutableApic {
  readonly apicId: number;
  receive(message: InterruptMessage): void;
}

export class RemoteApic implements ApicEndpoint {
  private readonly w: Int32Array;
  private readonly inbox: InterruptInbox;
  private readonly kicker: VcpuKick;

  constructor(directory: SharedArrayBuffer, index: number, inbox: SharedArrayBuffer, kick: KickBuffers) {
    this.w = new Int32Array(directory, index * WORDS * 4, WORDS);
    this.inbox = new InterruptInbox(inbox);
    this.kicker = new VcpuKick(kick);
  }

  get apicId(): number {
    return Atomics.load(this.w, APIC_ID);
  }
  get arbitrationPriority(): number {
    return Atomics.load(this.w, APR);
  }
  matchesDestination(destination: number, destMode: DestinationMode): boolean {
    if (Atomics.load(this.w, ENABLED) === 0) return false;
    return matchesDestination({ apicId: this.apicId, logicalId: Atomics.load(this.w, LOGICAL_ID), model: Atomics.load(this.w, MODEL) }, destination, destMode);
  }
  isFocusFor(): boolean {
    return false;
  }
  receive(message: InterruptMessage): void {
    this.inbox.post(message);
    this.kicker.kick();
  }
}
