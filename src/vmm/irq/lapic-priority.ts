/**
 * The APIC's interrupt bookkeeping and its priority rules (Intel SDM vol. 3A "Task Priority
 * Register", "Processor Priority Register", "Interrupt Acceptance for Fixed Interrupts", "End of
 * Interrupt"): IRR (requested), ISR (in service), TMR (level-triggered), TPR. The priority class
 * of a vector is its bits 7:4. No enables, errors or callbacks here: lapic.ts adds those.
 */
import { VectorSet } from './lapic-vectors.js';

export class PriorityState {
  readonly irr = new VectorSet();
  readonly isr = new VectorSet();
  readonly tmr = new VectorSet();
  tpr = 0;

  reset(): void {
    this.irr.clearAll();
    this.isr.clearAll();
    this.tmr.clearAll();
    this.tpr = 0;
  }

  /** PPR: TPR if its class is at least the highest in-service class, else that class. */
  processorPriority(): number {
    const isrv = Math.max(0, this.isr.highest());
    return (this.tpr >>> 4) >= (isrv >>> 4) ? this.tpr : isrv & 0xf0;
  }

  /** APR, the lowest-priority arbitration value (SDM "Lowest Priority Delivery Mode", P6 formula). */
  arbitrationPriority(): number {
    const isrv = Math.max(0, this.isr.highest());
    const irrv = Math.max(0, this.irr.highest());
    const tprClass = this.tpr >>> 4;
    if (tprClass >= (irrv >>> 4) && tprClass > (isrv >>> 4)) return this.tpr;
    return Math.max(this.tpr & 0xf0, isrv & 0xf0, irrv & 0xf0);
  }

  /** Records a request; a vector already requested merges with it. TMR says how it was triggered. */
  request(vector: number, level: boolean): void {
    this.irr.set(vector);
    this.tmr.assign(vector, level);
  }

  /** The highest requested vector whose class is above the PPR class, if any. */
  deliverable(): number | undefined {
    const v = this.irr.highest();
    if (v < 0 || (v >>> 4) <= (this.processorPriority() >>> 4)) return undefined;
    return v;
  }

  /** INTA: the deliverable vector moves from IRR to ISR; undefined when nothing is deliverable. */
  acknowledge(): number | undefined {
    const v = this.deliverable();
    if (v === undefined) return undefined;
    this.irr.clear(v);
    this.isr.set(v);
    return v;
  }

  /** EOI: retires the highest in-service vector; returns it and whether it was level-triggered. */
  endOfInterrupt(): { vector: number; level: boolean } | undefined {
    const v = this.isr.highest();
    if (v < 0) return undefined;
    this.isr.clear(v);
    return { vector: v, level: this.tmr.has(v) };
  }
}
