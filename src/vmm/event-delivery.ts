/**
 * How toyvirt hands the event thread's requests to the vCPU, as NVMM's toyvirt does: exceptions
 * and NMIs are injected at once (the backend delivers them at the next entry, or when NMIs are
 * unmasked); a hardware interrupt the guest cannot take yet (IF clear, or an STI/MOV SS shadow) is
 * held here, the interrupt window is requested, and it goes in at the int-ready exit.
 */
import { VmmError } from '../api/errors.js';
import { State } from '../api/types.js';
import type { ExitState, VcpuEvent } from '../api/types.js';
import type { Vcpu } from '../frontend/index.js';
import { CR8_BLOCKS_INTERRUPTS, type EventKind } from './event-requests.js';
import type { EventThread } from './event-thread.js';

const VECTOR_GP = 13, VECTOR_TOYVIRT_INTERRUPT = 200;
const RFLAGS_IF = 0x200n;

const EVENTS: Record<EventKind, { event: VcpuEvent; says: string }> = {
  gp: { event: { type: 'exception', vector: VECTOR_GP, errorCode: 0 }, says: 'Inject #GP event' },
  nmi: { event: { type: 'nmi' }, says: 'Inject NMI event' },
  interrupt: { event: { type: 'interrupt', vector: VECTOR_TOYVIRT_INTERRUPT }, says: 'Inject hardware interrupt event' },
};

export class EventDelivery {
  /** A hardware interrupt taken from the event thread, waiting for the guest's window. */
  private interruptHeld = false;

  constructor(
    private readonly cpu: Vcpu,
    private readonly events: EventThread,
    private readonly say: (line: string) => void,
  ) {}

  /** The guest halted: true when an event can go in now, false when only the event thread can wake it. */
  canWakeHaltedGuest(state: ExitState): boolean {
    // A held interrupt the guest can now take: the backend reports int-ready at the next run().
    if (this.interruptHeld && canTakeInterrupt(state)) return true;
    return !state.evtPending && this.events.waiting();
  }

  /**
   * One request per wake-up, so a guest that halts between events sees them one by one; none
   * while the backend still holds an earlier event (the request waits for a later wake-up).
   */
  deliverOne(state: ExitState): void {
    if (state.evtPending) return;
    const kind = this.events.take();
    if (kind === undefined) return;
    if (kind === 'interrupt') {
      this.offerInterrupt(state);
      return;
    }
    this.say(EVENTS[kind].says);
    this.cpu.inject(EVENTS[kind].event);
  }

  /** int-ready: the window toyvirt asked for is open. */
  windowOpen(state: ExitState): void {
    if (!this.interruptHeld) throw new VmmError('EIO', 'int-ready exit with no interrupt held (toyvirt did not ask for it)');
    this.interruptHeld = false;
    // NVMM's window exit is one-shot; disarm it explicitly so no backend reports it twice.
    this.cpu.setState({ intr: { intWindowExiting: false } }, State.INTR);
    this.say('Machine ready to INT/NMI');
    this.offerInterrupt(state);
  }

  private offerInterrupt(state: ExitState): void {
    if (state.cr8 >= BigInt(CR8_BLOCKS_INTERRUPTS)) {
      this.say(`Hardware interrupt not injected: the guest raised CR8 to ${state.cr8}`);
      return;
    }
    if (this.interruptHeld) {
      this.say('Hardware interrupt not injected: one is already waiting for the guest');
      return;
    }
    if (!canTakeInterrupt(state)) {
      this.interruptHeld = true;
      this.cpu.setState({ intr: { intWindowExiting: true } }, State.INTR);
      this.say('Hardware interrupt held: the guest has interrupts disabled, waiting for int-ready');
      return;
    }
    this.say(EVENTS.interrupt.says);
    this.cpu.inject(EVENTS.interrupt.event);
  }
}

function canTakeInterrupt(state: ExitState): boolean {
  return (state.rflags & RFLAGS_IF) !== 0n && !state.intShadow;
}
