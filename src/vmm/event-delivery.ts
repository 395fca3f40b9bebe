/**
 * How toyvirt hands the event thread's requests to the vCPU loop (core/vcpu-loop.ts), as NVMM's
 * toyvirt injects them: one request at a time, none while the backend still holds an earlier
 * event. A #GP and an NMI go in at once (the loop injects what takeException/takeNmi return; the
 * backend delivers the NMI when NMIs are unmasked). A hardware interrupt the guest cannot take yet
 * (IF clear, or an STI/MOV SS shadow) is held here: the loop asks for the interrupt window while
 * holdsInterrupt() says so, and takes it with takeInterrupt() at the int-ready exit that follows.
 */
import type { ExitState, VmExit } from '../api/types.js';
import { interruptWindowOpen, type ExceptionEvent } from './core/vcpu-loop.js';
import { CR8_BLOCKS_INTERRUPTS, type EventKind } from './event-requests.js';
import type { EventThread } from './event-thread.js';

const VECTOR_GP = 13;
export const VECTOR_TOYVIRT_INTERRUPT = 200;
const GP: ExceptionEvent = { type: 'exception', vector: VECTOR_GP, errorCode: 0 };
const RFLAGS_IF = 0x200n;

export class EventDelivery {
  /** The guest as of the last exit (undefined before the first run). */
  private state: ExitState | undefined;
  /** A request taken from the event thread and not handed to the loop yet. */
  private request: EventKind | undefined;
  /** A hardware interrupt taken from the event thread, waiting for the guest's window. */
  private interruptHeld = false;
  /** The held interrupt found the window shut: 'Machine ready' is said when it opens. */
  private waitedForWindow = false;

  constructor(
    private readonly events: EventThread,
    private readonly say: (line: string) => void,
  ) {}

  /** VcpuLoopHooks.afterExit: keeps the guest's state, and tells the event thread its CR8. */
  observe(exit: VmExit): void {
    this.state = exit.exitState;
    this.events.noteCr8(exit.exitState.cr8);
  }

  takeException(): ExceptionEvent | undefined {
    if (this.next() !== 'gp') return undefined;
    this.request = undefined;
    this.say('Inject #GP event');
    return GP;
  }

  takeNmi(): boolean {
    if (this.next() !== 'nmi') return false;
    this.request = undefined;
    this.say('Inject NMI event');
    return true;
  }

  /**
   * Takes an interrupt request into the held slot; true while one is held and the loop has
   * something to do for it. Not while IF is clear and the window the loop asked for is still
   * armed: nothing can go in before int-ready, and a halted guest then waits for the event thread
   * (core's loop does not let a halted guest wait while an interrupt is pending, whatever IF says).
   */
  holdsInterrupt(): boolean {
    if (this.next() === 'interrupt') {
      this.request = undefined;
      this.hold();
    }
    return this.interruptHeld && !this.windowArmedWithIfClear();
  }

  /** True while an interrupt is held (what holdsInterrupt() said, without taking a new request). */
  get holding(): boolean {
    return this.interruptHeld;
  }

  /**
   * The INTA cycle for the held interrupt: its vector, or undefined when CR8 now blocks it (dropped).
   * The loop calls it once the window is open: at the int-ready exit, or at any exit that already
   * shows it open (KVM reports an STI; HLT as a halted exit after the shadow, IF set, and so never
   * needs the window exit), so 'Machine ready' is said here, the same on every backend.
   */
  takeInterrupt(): number | undefined {
    this.interruptHeld = false;
    if (this.waitedForWindow) this.say('Machine ready to INT/NMI');
    this.waitedForWindow = false;
    if (this.blockedByCr8()) return undefined;
    this.say('Inject hardware interrupt event');
    return VECTOR_TOYVIRT_INTERRUPT;
  }

  /** VcpuLoopHooks.waitForInput of a halted guest: blocks until the event thread has a request for it, or ms passed. */
  waitForRequest(ms: number): void {
    if (this.request !== undefined || (this.mayTake() && this.events.waiting())) return;
    this.events.waitForNextPost(ms);
  }

  private windowArmedWithIfClear(): boolean {
    const st = this.state;
    return st !== undefined && st.intWindowExiting && (st.rflags & RFLAGS_IF) === 0n;
  }

  /** None while the backend holds an earlier event: the request waits for a later exit. */
  private mayTake(): boolean {
    return !(this.state?.evtPending ?? false);
  }

  private next(): EventKind | undefined {
    if (this.request === undefined && this.mayTake()) this.request = this.events.take();
    return this.request;
  }

  private hold(): void {
    if (this.blockedByCr8()) return;
    if (this.interruptHeld) {
      this.say('Hardware interrupt not injected: one is already waiting for the guest');
      return;
    }
    this.interruptHeld = true;
    // The loop injects it at once when the window is open, else asks for the window.
    if (this.state === undefined || !interruptWindowOpen(this.state)) {
      this.say('Hardware interrupt held: the guest has interrupts disabled, waiting for int-ready');
      this.waitedForWindow = true;
    }
  }

  private blockedByCr8(): boolean {
    const cr8 = this.state?.cr8 ?? 0n;
    if (cr8 < BigInt(CR8_BLOCKS_INTERRUPTS)) return false;
    this.say(`Hardware interrupt not injected: the guest raised CR8 to ${cr8}`);
    return true;
  }
}
