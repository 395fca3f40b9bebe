/**
 * Event injection on KVM without an in-kernel interrupt controller, and the window exits.
 * - Exceptions go in with KVM_SET_VCPU_EVENTS at the next entry, once no other event is in flight.
 * - External interrupts: KVM_INTERRUPT only when kvm_run says the guest can take one
 *   (ready_for_interrupt_injection && IF); otherwise the vector is held here and
 *   request_interrupt_window makes KVM exit (IRQ_WINDOW_OPEN) as soon as it can, when it is injected.
 * - NMIs: KVM_NMI queues them in the kernel, which delivers each when NMIs are unmasked.
 * - int-ready: the caller's intWindowExiting (one-shot, as NVMM), reported from IRQ_WINDOW_OPEN, or
 *   at once when the guest can already take an interrupt: as of the last exit, or, after a
 *   setState, as read back from the vCPU (RFLAGS.IF, shadow, nothing in flight). Without that
 *   read-back a window opened before the setState was seen only at the guest's next exit on hosts
 *   that never exit with IRQ_WINDOW_OPEN while the guest runs (the PVM module): int-ready came
 *   late, after the guest had run on. Windows that open while the guest runs are still noticed
 *   there only at its next exit (a host limit).
 * - nmi-ready: KVM has no NMI-window exit to user space; the backend reports it at the next
 *   entry at which KVM says NMIs are unmasked and none is pending (so a guest that unmasks NMIs
 *   with IRET is seen at its next exit, not at the IRET).
 */
import { VmmError } from '../../api/errors.js';
import { State } from '../../api/types.js';
import type { Intr, VcpuEvent, VmExit } from '../../api/types.js';
import { KVM } from './ioctls.js';
import { EVENTS, RUN } from './structs.js';
import { kvmError, ioctlRetry } from './kvm-error.js';
import { sys } from './libc.js';
import type { KvmVcpu } from './vcpu.js';

const RFLAGS_IF = 0x200n;

export class EventQueue {
  private exception: { vector: number; errorCode: number | undefined } | undefined;
  private interrupt = -1;
  intWindowExiting = false;
  nmiWindowExiting = false;
  /** kvm_run's readiness flags may be out of date (state was set since the last exit). */
  private readinessStale = true;
  private readonly vcpu: KvmVcpu;
  private readonly interruptArg: Uint8Array = new Uint8Array(4);

  constructor(vcpu: KvmVcpu) {
    this.vcpu = vcpu;
  }

  inject(event: VcpuEvent): void {
    switch (event.type) {
      case 'exception':
        if (this.exception) throw new VmmError('EBUSY', `kvm: exception ${this.exception.vector} is still waiting for delivery`);
        this.exception = { vector: event.vector, errorCode: event.errorCode };
        return;
      case 'interrupt':
        if (this.interrupt >= 0) throw new VmmError('EBUSY', `kvm: interrupt ${this.interrupt} is still waiting for delivery`);
        this.interrupt = event.vector;
        return;
      case 'nmi':
        if (ioctlRetry(this.vcpu.fd, KVM.NMI, 0) < 0) throw kvmError('KVM_NMI');
        return;
    }
  }

  /** Called before each KVM_RUN: delivers what can go now, arms the window; may exit at once (nmi-ready). */
  beforeEntry(): VmExit | undefined {
    const rv = this.vcpu.run_.view;
    let injectedException = false;
    if (this.exception) {
      const ev = this.vcpu.getEvents();
      if (!eventInFlight(ev)) {
        ev.setUint8(EVENTS.excInjected, 1);
        ev.setUint8(EVENTS.excPending, 0);
        ev.setUint8(EVENTS.excNr, this.exception.vector);
        ev.setUint8(EVENTS.excHasErrorCode, this.exception.errorCode === undefined ? 0 : 1);
        ev.setUint32(EVENTS.excErrorCode, this.exception.errorCode ?? 0, true);
        this.vcpu.setEvents();
        this.exception = undefined;
        injectedException = true;
      }
    }
    const ready = !injectedException && (this.intWindowExiting || this.interrupt >= 0) && this.canTakeInterrupt();
    if (this.intWindowExiting && ready) {
      // The window is already open (as of the last exit): report it without entering the guest.
      this.intWindowExiting = false;
      return this.vcpu.exitsSimple('int-ready');
    }
    if (this.interrupt >= 0 && ready) {
      new DataView(this.interruptArg.buffer).setUint32(0, this.interrupt, true);
      if (sys.ioctlBuf(this.vcpu.fd, KVM.INTERRUPT, this.interruptArg) < 0) throw kvmError(`KVM_INTERRUPT ${this.interrupt}`);
      this.interrupt = -1;
    }
    if (this.nmiWindowExiting) {
      const ev = this.vcpu.getEvents();
      if (!ev.getUint8(EVENTS.nmiMasked) && !ev.getUint8(EVENTS.nmiPending) && !ev.getUint8(EVENTS.nmiInjected)) {
        this.nmiWindowExiting = false;
        return this.vcpu.exitsSimple('nmi-ready');
      }
    }
    rv.setUint8(RUN.requestInterruptWindow, this.interrupt >= 0 || this.intWindowExiting ? 1 : 0);
    this.readinessStale = false;
    return undefined;
  }

  /**
   * Whether the guest can take an external interrupt now: kvm_run's flags when they describe the
   * guest (no setState since the last exit), else the state read back (IF set, no STI/MOV SS
   * shadow, no event in flight), which is what KVM computes for ready_for_interrupt_injection.
   */
  private canTakeInterrupt(): boolean {
    if (!this.readinessStale) {
      const rv = this.vcpu.run_.view;
      return rv.getUint8(RUN.readyForInterruptInjection) !== 0 && rv.getUint8(RUN.ifFlag) !== 0;
    }
    const ev = this.vcpu.getEvents();
    if (ev.getUint8(EVENTS.intShadow) !== 0 || eventInFlight(ev)) return false;
    return (this.vcpu.getState(State.GPRS).gprs!.rflags & RFLAGS_IF) !== 0n;
  }

  /** KVM_EXIT_IRQ_WINDOW_OPEN: the caller's int-ready, or re-enter to inject the held vector. */
  onIrqWindow(): VmExit | undefined {
    if (this.intWindowExiting) {
      this.intWindowExiting = false;
      return this.vcpu.exitsSimple('int-ready');
    }
    return undefined;
  }

  /** The caller changed state: kvm_run's "ready" flags no longer describe the guest. */
  stateChanged(): void {
    this.readinessStale = true;
  }

  held(): boolean {
    return this.exception !== undefined || this.interrupt >= 0;
  }

  intrState(ev: DataView): Intr {
    return {
      intShadow: ev.getUint8(EVENTS.intShadow) !== 0,
      intWindowExiting: this.intWindowExiting,
      nmiWindowExiting: this.nmiWindowExiting,
      evtPending: this.held() || eventInFlight(ev) || ev.getUint8(EVENTS.nmiPending) !== 0,
    };
  }

  setIntr(intr: Partial<Intr>): void {
    if (intr.intShadow !== undefined) {
      const ev = this.vcpu.getEvents();
      ev.setUint8(EVENTS.intShadow, intr.intShadow ? 1 /* KVM_X86_SHADOW_INT_STI */ : 0);
      this.vcpu.setEvents();
    }
    if (intr.intWindowExiting !== undefined) this.intWindowExiting = intr.intWindowExiting;
    if (intr.nmiWindowExiting !== undefined) this.nmiWindowExiting = intr.nmiWindowExiting;
    if (intr.evtPending === false) {
      this.exception = undefined;
      this.interrupt = -1;
      // NMIs wait in the kernel (KVM_NMI): dropped too, as the soft backend drops its queue.
      const ev = this.vcpu.getEvents();
      if (ev.getUint8(EVENTS.nmiPending) !== 0) {
        ev.setUint8(EVENTS.nmiPending, 0);
        this.vcpu.setEvents();
      }
    } else if (intr.evtPending === true && !this.held() && !eventInFlight(this.vcpu.getEvents())) {
      throw new VmmError('EINVAL', 'kvm: intr.evtPending = true with no event pending: use inject() to queue one');
    }
  }
}

/** An event KVM is in the middle of delivering (it owns the injection slot). */
export function eventInFlight(ev: DataView): boolean {
  return ev.getUint8(EVENTS.excInjected) !== 0 || ev.getUint8(EVENTS.excPending) !== 0 ||
    ev.getUint8(EVENTS.intInjected) !== 0 || ev.getUint8(EVENTS.nmiInjected) !== 0;
}
