/**
 * A local APIC in xAPIC mode (Intel SDM vol. 3A chapter "Advanced Programmable Interrupt
 * Controller"; AMD APM vol. 2 chapter 16), one per vCPU: the 4 KiB register page at
 * IA32_APIC_BASE, interrupt acceptance and priority (IRR/ISR/TMR, TPR/PPR/APR, EOI), the local
 * vector table with LINT0/LINT1 inputs, the error status register, the timer (one-shot, periodic,
 * TSC-deadline), IPIs out through the ICR, and INIT/SIPI/NMI in.
 *
 * It reaches nothing by itself. The monitor:
 * - injects: asks nmiPending / hasExtInt() / pendingVector(); when the vCPU can take an interrupt
 *   it calls acknowledge() (the INTA cycle) and injects the vector that returns (or, for ExtINT,
 *   asks the 8259 for the vector and calls acknowledgeExtInt()); onWake() tells it that something
 *   may have become deliverable (so it can stop() a running vCPU or open an interrupt window);
 * - routes: onIpi(request) for every IPI the guest sends (except self IPIs, delivered here), and
 *   receive(message) / matchesDestination() on the receiving side; onEoi(vector) for an EOI of a
 *   level-triggered vector (to the IOAPIC);
 *   Order when several things are pending, as KVM checks them: INIT/SIPI (takeInit/takeSipi: the
 *   vCPU's state changes), then NMI, then ExtINT (the 8259 before the APIC), then pendingVector();
 * - handles MSRs 0x1B and 0x6E0 through readApicBaseMsr/writeApicBaseMsr and
 *   readTscDeadline/writeTscDeadline, and calls poll(now) at the deadline it returns.
 *
 * Accesses the SDM leaves model-specific are handled as KVM does, and reported through
 * onDiagnostic: reads of 1-4 bytes inside a register's first 4 bytes return those bytes, other
 * reads return zeros for the bytes outside a register; writes other than an aligned 32-bit store
 * are dropped. Unimplemented offsets read 0, drop writes and set ESR bit 7 (illegal register address).
 */
import { VmmError, hex } from '../../api/errors.js';
import type { Clock } from '../bus/clock.js';
import type { InterruptLine } from '../bus/interrupt-line.js';
import type { MmioDevice } from '../devices/device.js';
import {
  decodeApicBase, encodeApicBase, type MsrWriteResult,
} from './lapic-base-msr.js';
import { decodeIcr } from './lapic-icr.js';
import {
  isInitDeassert, matchesDestination, type ApicAddress, type DestinationMode, type InterruptMessage,
  type IpiRequest, type TriggerMode,
} from './lapic-message.js';
import { PriorityState } from './lapic-priority.js';
import {
  DeliveryMode, DFR_MODEL_MASK, DFR_RESERVED_ONES, DIVIDE_WRITABLE, Esr, FIRST_LEGAL_VECTOR,
  ICR_HIGH_WRITABLE, ICR_LOW_WRITABLE, ID_WRITABLE, LAPIC_DEFAULT_BASE, LAPIC_PAGE_SIZE, LAPIC_VERSION,
  LapicReg, LDR_WRITABLE, Lvt, LVT_BY_NAME, LVT_BY_OFFSET, LVT_LAYOUT, LVT_RESET, REG_STRIDE, Svr,
  SVR_RESET, SVR_WRITABLE, TimerMode, divisorOf, type LvtName, type TimerModeValue,
} from './lapic-registers.js';
import { LapicTimer, type TscMapping } from './lapic-timer.js';

export { APIC_BUS_HZ, LAPIC_DEFAULT_BASE, LapicReg, TimerMode } from './lapic-registers.js';
export { MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE, type MsrWriteResult } from './lapic-base-msr.js';
export { decodeMsi, isInitDeassert, type InterruptMessage, type IpiRequest, type MsiMessage } from './lapic-message.js';
export type { TscMapping } from './lapic-timer.js';
export { selectTargets, type RoutableApic } from './lapic-routing.js';

export interface LapicOptions {
  /** Initial APIC ID (0..254; 255 is the broadcast address). */
  apicId: number;
  /** The bootstrap processor (IA32_APIC_BASE bit 8). */
  bsp: boolean;
  clock: Clock;
  /** Guest TSC <-> clock mapping, for TSC-deadline mode. */
  tsc: TscMapping;
  /** The guest sent an IPI (any shorthand but self): the monitor routes it. */
  onIpi: (request: IpiRequest) => void;
  /** EOI of a level-triggered vector: the monitor forwards it to the IOAPIC(s). */
  onEoi: (vector: number) => void;
  /** Something may have become deliverable (IRR, NMI, ExtINT, INIT, SIPI). */
  onWake?: () => void;
  /** The guest moved the register page (IA32_APIC_BASE): the monitor remaps it. */
  onRelocate?: (base: number) => void;
  /** TPR changed through the register page: the monitor mirrors it into the vCPU's CR8. */
  onTprChange?: (tpr: number) => void;
  /** A guest access the model ignored or answered by convention (see the file comment). */
  onDiagnostic?: (message: string) => void;
  /** MAXPHYADDR for the base address check; default 40 (the soft CPU's). */
  maxPhysAddrBits?: number;
  /** Initial page address; default 0xFEE00000. */
  base?: number;
}

export type LintPin = 'lint0' | 'lint1';

/** Registers read straight from a field, by offset (the rest are computed in readRegister). */
const ISR_END = LapicReg.ISR0 + 8 * REG_STRIDE;
const TMR_END = LapicReg.TMR0 + 8 * REG_STRIDE;
const IRR_END = LapicReg.IRR0 + 8 * REG_STRIDE;

export class Lapic implements MmioDevice {
  readonly name = 'lapic';
  readonly size = LAPIC_PAGE_SIZE;

  private readonly initialApicId: number;
  private readonly maxPhysAddrBits: number;
  private pageBase: number;
  private bsp: boolean;
  private enabled = true;

  private id = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = SVR_RESET;
  private readonly prio = new PriorityState();
  private readonly lvt = new Map<LvtName, number>();
  private esrLatched = 0;
  private esrPending = 0;
  private deliveringError = false;
  private ignored = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private divideConfig = 0;
  private readonly timer: LapicTimer;

  /** LINT pin levels as driven (electrical: true = high). */
  private readonly pinLevel: Record<LintPin, boolean> = { lint0: false, lint1: false };
  private nmi = false;
  private extIntMessage = false;
  private initReceived = false;
  private waitSipi = false;
  private sipiVector: number | undefined;

  /** LINT0/LINT1 as wires, for the monitor to hand to the 8259 (INTR output) or an NMI source. */
  readonly lint0Line: InterruptLine;
  readonly lint1Line: InterruptLine;

  constructor(private readonly opts: LapicOptions) {
    if (!Number.isInteger(opts.apicId) || opts.apicId < 0 || opts.apicId > 0xfe) {
      throw new VmmError('EINVAL', `xAPIC id must be 0..254 (255 is broadcast), got ${opts.apicId}`);
    }
    this.maxPhysAddrBits = opts.maxPhysAddrBits ?? 40;
    if (!Number.isInteger(this.maxPhysAddrBits) || this.maxPhysAddrBits < 32 || this.maxPhysAddrBits > 52) {
      throw new VmmError('EINVAL', `MAXPHYADDR must be 32..52, got ${this.maxPhysAddrBits}`);
    }
    const base = opts.base ?? LAPIC_DEFAULT_BASE;
    if (!Number.isInteger(base) || base % LAPIC_PAGE_SIZE !== 0 || base < 0 || base >= 2 ** this.maxPhysAddrBits) {
      throw new VmmError('EINVAL', `LAPIC base must be a 4 KiB-aligned address below 2^${this.maxPhysAddrBits}, got ${hex(base)}`);
    }
    this.initialApicId = opts.apicId;
    this.pageBase = base;
    this.bsp = opts.bsp;
    this.timer = new LapicTimer(opts.tsc, () => this.raiseLvt('timer'));
    this.lint0Line = this.lineFor('lint0');
    this.lint1Line = this.lineFor('lint1');
    this.powerUpReset(true);
  }

  get base(): number {
    return this.pageBase;
  }

  // ---- state the monitor reads ----

  get apicId(): number {
    return this.id >>> 24;
  }
  get isBsp(): boolean {
    return this.bsp;
  }
  /** IA32_APIC_BASE bit 11. When clear, CPUID.1:EDX.APIC (bit 9) must read 0 too. */
  get globallyEnabled(): boolean {
    return this.enabled;
  }
  /** SVR bit 8. */
  get softwareEnabled(): boolean {
    return (this.svr & Svr.ENABLE) !== 0;
  }
  get taskPriority(): number {
    return this.prio.tpr;
  }
  /** CR8 is TPR bits 7:4 (SDM "Interaction of Task Priorities between CR8 and APIC"). */
  get cr8(): number {
    return this.prio.tpr >>> 4;
  }
  /** MOV to CR8 (the monitor forwards the vCPU's tpr-changed exit): TPR = CR8 << 4. */
  set cr8(value: number) {
    this.prio.tpr = (value & 0xf) << 4;
    this.wake();
  }
  get processorPriority(): number {
    return this.prio.processorPriority();
  }
  /** APR, for lowest-priority arbitration. */
  get arbitrationPriority(): number {
    return this.prio.arbitrationPriority();
  }
  /** Diagnostics: accesses the model ignored or answered by convention (see onDiagnostic). */
  get ignoredAccesses(): number {
    return this.ignored;
  }
  /** The addressing registers, for routing messages. */
  get address(): ApicAddress {
    return { apicId: this.apicId, logicalId: this.ldr >>> 24, model: (this.dfr & DFR_MODEL_MASK) >>> 28 };
  }
  /** Focus processor for vector (lowest-priority delivery): it has the vector in IRR or ISR, focus checking on (SVR bit 9 clear). */
  isFocusFor(vector: number): boolean {
    if (!this.enabled || !this.softwareEnabled || (this.svr & Svr.FOCUS_DISABLED) !== 0) return false;
    return this.prio.irr.has(vector & 0xff) || this.prio.isr.has(vector & 0xff);
  }
  /** Is a message for (destination, destMode) addressed to this APIC? Never when globally disabled. */
  matchesDestination(destination: number, destMode: DestinationMode): boolean {
    return this.enabled && matchesDestination(this.address, destination, destMode);
  }

  // ---- the register page ----

  read(offset: number, data: Uint8Array): void {
    this.checkOffset(offset, data, 'read');
    this.settle();
    const slot = offset & ~(REG_STRIDE - 1);
    const within = offset - slot;
    const value = this.enabled ? this.readRegister(slot) : 0;
    if (!this.enabled) this.diagnose(`read at ${hex(this.pageBase + offset)} with the APIC globally disabled: 0`);
    if (data.length !== 4 || within !== 0) {
      this.diagnose(`${data.length}-byte read at ${hex(this.pageBase + offset)}: not an aligned 32-bit load; bytes of the register, zeros past it`);
    }
    for (let i = 0; i < data.length; i++) {
      const byte = within + i;
      data[i] = byte < 4 ? (value >>> (8 * byte)) & 0xff : 0;
    }
  }

  write(offset: number, data: Uint8Array): void {
    this.checkOffset(offset, data, 'write');
    this.settle();
    if (!this.enabled) {
      this.diagnose(`write at ${hex(this.pageBase + offset)} with the APIC globally disabled: dropped`);
      return;
    }
    if (data.length !== 4 || offset % REG_STRIDE !== 0) {
      this.diagnose(`${data.length}-byte write at ${hex(this.pageBase + offset)}: only aligned 32-bit stores reach xAPIC registers; dropped`);
      return;
    }
    const value = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
    this.writeRegister(offset, value);
  }

  /** The value of the register at a 16-byte-aligned offset, as the guest reads it. */
  private readRegister(slot: number): number {
    if (slot >= LapicReg.ISR0 && slot < ISR_END) return this.prio.isr.word((slot - LapicReg.ISR0) / REG_STRIDE);
    if (slot >= LapicReg.TMR0 && slot < TMR_END) return this.prio.tmr.word((slot - LapicReg.TMR0) / REG_STRIDE);
    if (slot >= LapicReg.IRR0 && slot < IRR_END) return this.prio.irr.word((slot - LapicReg.IRR0) / REG_STRIDE);
    const lvt = LVT_BY_OFFSET.get(slot);
    if (lvt) return this.lvt.get(lvt.name)!;
    switch (slot) {
      case LapicReg.ID: return this.id;
      case LapicReg.VERSION: return LAPIC_VERSION;
      case LapicReg.TPR: return this.prio.tpr;
      case LapicReg.APR: return this.arbitrationPriority;
      case LapicReg.PPR: return this.processorPriority;
      case LapicReg.EOI: return 0; // write-only
      case LapicReg.RRD: return 0; // remote read is not offered (P6-era); the register reads 0
      case LapicReg.LDR: return this.ldr;
      case LapicReg.DFR: return this.dfr;
      case LapicReg.SVR: return this.svr;
      case LapicReg.ESR: return this.esrLatched;
      case LapicReg.ICR_LOW: return this.icrLow; // delivery status (bit 12) is always idle: delivery is immediate
      case LapicReg.ICR_HIGH: return this.icrHigh;
      case LapicReg.TIMER_INITIAL: return this.timer.initialCount;
      case LapicReg.TIMER_CURRENT: return this.timer.currentCount(this.opts.clock.now());
      case LapicReg.TIMER_DIVIDE: return this.divideConfig;
      default:
        this.recordError(Esr.ILLEGAL_REGISTER);
        this.diagnose(`read of unimplemented register ${hex(slot)}: 0, ESR illegal register address`);
        return 0;
    }
  }

  private writeRegister(slot: number, value: number): void {
    const lvt = LVT_BY_OFFSET.get(slot);
    if (lvt) {
      this.writeLvt(lvt.name, value);
      return;
    }
    switch (slot) {
      case LapicReg.ID: this.id = value & ID_WRITABLE; return;
      case LapicReg.TPR:
        this.prio.tpr = value & 0xff;
        this.opts.onTprChange?.(this.prio.tpr);
        this.wake();
        return;
      case LapicReg.EOI: this.endOfInterrupt(); return;
      case LapicReg.LDR: this.ldr = value & LDR_WRITABLE; return;
      case LapicReg.DFR: this.dfr = ((value & DFR_MODEL_MASK) | DFR_RESERVED_ONES) >>> 0; return;
      case LapicReg.SVR: this.writeSvr(value); return;
      case LapicReg.ESR:
        // Write-then-read: a write latches the errors seen since the previous write and clears them.
        this.esrLatched = this.esrPending;
        this.esrPending = 0;
        return;
      case LapicReg.ICR_HIGH: this.icrHigh = (value & ICR_HIGH_WRITABLE) >>> 0; return;
      case LapicReg.ICR_LOW:
        this.icrLow = (value & ICR_LOW_WRITABLE) >>> 0;
        this.sendIpi();
        return;
      case LapicReg.TIMER_INITIAL: this.timer.writeInitialCount(value, this.opts.clock.now()); return;
      case LapicReg.TIMER_DIVIDE:
        this.divideConfig = value & DIVIDE_WRITABLE;
        this.timer.setDivisor(divisorOf(this.divideConfig), this.opts.clock.now());
        return;
      case LapicReg.VERSION: case LapicReg.APR: case LapicReg.PPR: case LapicReg.RRD: case LapicReg.TIMER_CURRENT:
        this.diagnose(`write of ${hex(value)} to read-only register ${hex(slot)}: dropped`);
        return;
      default:
        if (slot >= LapicReg.ISR0 && slot < IRR_END) {
          this.diagnose(`write of ${hex(value)} to read-only register ${hex(slot)}: dropped`);
          return;
        }
        this.recordError(Esr.ILLEGAL_REGISTER);
        this.diagnose(`write of ${hex(value)} to unimplemented register ${hex(slot)}: dropped, ESR illegal register address`);
    }
  }

  private writeLvt(name: LvtName, value: number): void {
    const layout = LVT_BY_NAME[name];
    const old = this.lvt.get(name)!;
    const keep = old & (Lvt.REMOTE_IRR | Lvt.DELIVERY_STATUS);
    let next = (value & layout.writable) | keep;
    // While software-disabled, the mask bits stay set (SDM "Local APIC State After It Has Been Software Disabled").
    if (!this.softwareEnabled) next |= Lvt.MASKED;
    this.lvt.set(name, next >>> 0);
    if (name === 'timer') this.timer.setMode(((next & Lvt.TIMER_MODE) >>> Lvt.TIMER_MODE_SHIFT) as TimerModeValue);
    // An unmasked LINT input that is already active delivers now (a level-triggered source is still asserted).
    if ((name === 'lint0' || name === 'lint1') && (old & Lvt.MASKED) !== 0 && (next & Lvt.MASKED) === 0) this.lintLevelCheck(name);
    if (name === 'lint0') this.wake();
  }

  /**
   * Every SVR write with the enable bit clear sets all LVT masks, as KVM does: the SDM states
   * "masked while software-disabled" as an invariant, and setVirtualWire() is the one way in
   * (the firmware's) that leaves LINT0/LINT1 unmasked on a software-disabled APIC.
   */
  private writeSvr(value: number): void {
    this.svr = value & SVR_WRITABLE;
    if (!this.softwareEnabled) {
      for (const { name } of LVT_LAYOUT) this.lvt.set(name, (this.lvt.get(name)! | Lvt.MASKED) >>> 0);
    }
    this.wake();
  }

  // ---- acceptance, priority, INTA, EOI ----

  /**
   * A fixed (or lowest-priority, once the monitor chose this APIC) interrupt arrives: sets IRR,
   * and TMR for level-triggered ones (clears it for edge). Returns false when it was not accepted:
   * an illegal vector 0-15 (ESR "received illegal vector"), or an APIC that is globally disabled
   * or software-disabled (Linux relies on the latter: interrupts arriving then are lost).
   */
  accept(vector: number, trigger: TriggerMode): boolean {
    if (!Number.isInteger(vector) || vector < 0 || vector > 0xff) {
      throw new VmmError('EINVAL', `interrupt vector must be 0..255, got ${vector}`);
    }
    if (!this.enabled || !this.softwareEnabled) return false;
    if (vector < FIRST_LEGAL_VECTOR) {
      this.recordError(Esr.RECEIVE_ILLEGAL_VECTOR);
      return false;
    }
    this.prio.request(vector, trigger === 'level');
    this.wake();
    return true;
  }

  /**
   * The vector the APIC would hand the CPU now: the highest IRR vector whose priority class is
   * above the processor priority class. Pending IRR bits stay deliverable when the APIC is
   * software-disabled (the SDM: they "require masking or handling by the CPU").
   */
  pendingVector(): number | undefined {
    return this.enabled ? this.prio.deliverable() : undefined;
  }

  /**
   * The INTA cycle, when the monitor injects: moves the highest deliverable vector from IRR to
   * ISR and returns it. If nothing is deliverable any more (the guest raised TPR since
   * pendingVector() said otherwise), returns the spurious vector (SVR 7:0), which touches no ISR
   * bit and needs no EOI (SDM "Spurious Interrupt"). The result may also be a higher vector that
   * arrived meanwhile: inject what this returns.
   */
  acknowledge(): number {
    if (!this.enabled) throw new VmmError('EINVAL', 'acknowledge(): the local APIC is globally disabled; it delivers no interrupts');
    return this.prio.acknowledge() ?? this.svr & Svr.VECTOR;
  }

  /** EOI: retires the highest in-service vector; level-triggered ones go to onEoi for the IOAPIC. */
  private endOfInterrupt(): void {
    const retired = this.prio.endOfInterrupt();
    if (!retired) {
      this.diagnose('EOI with no interrupt in service: ignored');
      return;
    }
    const v = retired.vector;
    for (const pin of ['lint0', 'lint1'] as const) {
      const entry = this.lvt.get(pin)!;
      if ((entry & Lvt.REMOTE_IRR) !== 0 && (entry & Lvt.VECTOR) === v) {
        this.lvt.set(pin, (entry & ~Lvt.REMOTE_IRR) >>> 0);
        this.lintLevelCheck(pin);
      }
    }
    if (retired.level) this.opts.onEoi(v);
    this.wake();
  }

  // ---- NMI, ExtINT, INIT, SIPI ----

  get nmiPending(): boolean {
    return this.nmi;
  }
  /** The monitor injects an NMI: clears the pending NMI and says whether there was one. */
  takeNmi(): boolean {
    const had = this.nmi;
    this.nmi = false;
    return had;
  }

  /**
   * Is an 8259-style interrupt waiting (the monitor then asks the PIC for the vector)? Through
   * LINT0 in ExtINT mode while the pin is active (level-sensitive, not subject to TPR), through
   * LINT0 as the plain INTR pin when the APIC is globally disabled, or from an ExtINT message.
   */
  hasExtInt(): boolean {
    if (!this.enabled) return this.pinLevel.lint0;
    if (this.extIntMessage) return true;
    const entry = this.lvt.get('lint0')!;
    return (entry & Lvt.MASKED) === 0 && this.modeOf(entry) === DeliveryMode.EXTINT && this.pinActive('lint0');
  }
  /** The monitor got the vector from the PIC and injected it: an ExtINT message is consumed. */
  acknowledgeExtInt(): void {
    this.extIntMessage = false;
  }

  /**
   * INIT arrived (IPI, message or LINT in INIT mode): the APIC goes back to its power-up state
   * except the APIC ID (SDM "Local APIC State After an INIT Reset"); an AP then waits for a SIPI.
   * The monitor learns it through takeInit() and resets the vCPU.
   */
  acceptInit(): void {
    if (!this.enabled) return;
    this.powerUpReset(false);
    this.initReceived = true;
    this.waitSipi = !this.bsp;
    this.sipiVector = undefined;
    this.wake();
  }
  /** A SIPI: only an AP in the wait-for-SIPI state takes it (others ignore SIPIs, as the CPU does). */
  acceptSipi(vector: number): boolean {
    if (!Number.isInteger(vector) || vector < 0 || vector > 0xff) {
      throw new VmmError('EINVAL', `SIPI vector must be 0..255, got ${vector}`);
    }
    if (!this.waitSipi) return false;
    this.waitSipi = false;
    this.sipiVector = vector;
    this.wake();
    return true;
  }
  get waitingForSipi(): boolean {
    return this.waitSipi;
  }
  takeInit(): boolean {
    const had = this.initReceived;
    this.initReceived = false;
    return had;
  }
  /** The SIPI vector received (start at vector << 12), once. */
  takeSipi(): number | undefined {
    const v = this.sipiVector;
    this.sipiVector = undefined;
    return v;
  }

  /** An interrupt message addressed to this APIC (after the monitor matched its destination). */
  receive(message: InterruptMessage): void {
    if (!this.enabled) return;
    switch (message.deliveryMode) {
      case 'fixed': case 'lowest-priority': this.accept(message.vector, message.trigger); return;
      case 'nmi': this.raiseNmi(); return;
      case 'init': if (!isInitDeassert(message)) this.acceptInit(); return;
      case 'startup': this.acceptSipi(message.vector); return;
      case 'extint': this.extIntMessage = true; this.wake(); return;
      case 'smi': throw new VmmError('ENOTSUP', `SMI message to APIC ${this.apicId}: system management mode is not emulated`);
    }
  }

  // ---- LINT0 / LINT1 ----

  /** Drives a LINT pin to an electrical level (true = high). */
  lint(pin: LintPin, level: boolean): void {
    const was = this.pinLevel[pin];
    this.pinLevel[pin] = level;
    if (!this.enabled) {
      // No APIC: LINT0 is INTR (read by hasExtInt), LINT1 is NMI on a rising edge.
      if (pin === 'lint1' && level && !was) this.raiseNmi();
      if (pin === 'lint0') this.wake();
      return;
    }
    const entry = this.lvt.get(pin)!;
    const lowActive = (entry & Lvt.POLARITY_LOW) !== 0;
    const activeNow = level !== lowActive, activeBefore = was !== lowActive;
    if (this.modeOf(entry) === DeliveryMode.EXTINT) {
      this.wake();
      return;
    }
    const levelTriggered = (entry & Lvt.TRIGGER_LEVEL) !== 0 && this.modeOf(entry) === DeliveryMode.FIXED;
    if (levelTriggered) this.lintLevelCheck(pin);
    else if (activeNow && !activeBefore) this.raiseLvt(pin);
  }
  lint0(level: boolean): void {
    this.lint('lint0', level);
  }
  lint1(level: boolean): void {
    this.lint('lint1', level);
  }

  /** A level-triggered fixed LINT delivers while active and its remote IRR is clear. */
  private lintLevelCheck(pin: LintPin): void {
    const entry = this.lvt.get(pin)!;
    if (!this.pinActive(pin)) return;
    const levelFixed = (entry & Lvt.TRIGGER_LEVEL) !== 0 && this.modeOf(entry) === DeliveryMode.FIXED;
    if (!levelFixed) {
      if (this.modeOf(entry) === DeliveryMode.EXTINT) this.wake();
      return;
    }
    if ((entry & (Lvt.REMOTE_IRR | Lvt.MASKED)) !== 0) return;
    if (this.accept(entry & Lvt.VECTOR, 'level')) this.lvt.set(pin, (entry | Lvt.REMOTE_IRR) >>> 0);
  }

  private pinActive(pin: LintPin): boolean {
    return this.pinLevel[pin] !== ((this.lvt.get(pin)! & Lvt.POLARITY_LOW) !== 0);
  }

  private lineFor(pin: LintPin): InterruptLine {
    return {
      set: (level: boolean) => this.lint(pin, level),
      pulse: () => {
        this.lint(pin, true);
        this.lint(pin, false);
      },
    };
  }

  // ---- local interrupts ----

  /** A local source (timer, LINT edge, error) fires: what its LVT entry says happens. */
  private raiseLvt(name: LvtName): void {
    const entry = this.lvt.get(name)!;
    if ((entry & Lvt.MASKED) !== 0) return;
    const vector = entry & Lvt.VECTOR;
    // The timer and error entries have no delivery-mode field: always fixed.
    const mode = name === 'timer' || name === 'error' ? DeliveryMode.FIXED : this.modeOf(entry);
    switch (mode) {
      case DeliveryMode.FIXED: this.accept(vector, (entry & Lvt.TRIGGER_LEVEL) !== 0 ? 'level' : 'edge'); return;
      case DeliveryMode.NMI: this.raiseNmi(); return;
      case DeliveryMode.INIT: this.acceptInit(); return;
      case DeliveryMode.EXTINT: this.wake(); return;
      case DeliveryMode.SMI:
        throw new VmmError('ENOTSUP', `LVT ${name} (${hex(entry)}) delivers an SMI: system management mode is not emulated`);
      default:
        // Reserved modes (1, 3, 6): the SDM leaves them undefined; nothing is delivered.
        this.diagnose(`LVT ${name} (${hex(entry)}) has reserved delivery mode ${mode}: nothing delivered`);
    }
  }

  private raiseNmi(): void {
    this.nmi = true;
    this.wake();
  }

  /** An APIC error: ESR accumulates it, and the LVT error entry interrupts (never recursively). */
  private recordError(bit: number): void {
    this.esrPending |= bit;
    if (this.deliveringError) return;
    this.deliveringError = true;
    try {
      this.raiseLvt('error');
    } finally {
      this.deliveringError = false;
    }
  }

  private modeOf(entry: number): number {
    return (entry & Lvt.DELIVERY_MODE) >>> Lvt.DELIVERY_MODE_SHIFT;
  }

  // ---- IPIs ----

  private sendIpi(): void {
    const action = decodeIcr(this.icrLow, this.icrHigh, this.apicId);
    switch (action.kind) {
      case 'send': this.opts.onIpi(action.request); return;
      case 'self': this.accept(action.vector, 'edge'); return;
      case 'illegal-vector': this.recordError(Esr.SEND_ILLEGAL_VECTOR); return;
      case 'ignored': this.diagnose(action.reason);
    }
  }

  // ---- timer ----

  /** Raises what is due at now; returns the next deadline in ns (Infinity: none, or masked). */
  poll(now: number): number {
    const next = this.timer.poll(now);
    return (this.lvt.get('timer')! & Lvt.MASKED) !== 0 ? Infinity : next;
  }

  readTscDeadline(): bigint {
    this.settle();
    return this.timer.readDeadline();
  }
  writeTscDeadline(value: bigint): void {
    this.settle();
    this.timer.writeDeadline(value);
  }
  /** The guest TSC now, by the mapping given at construction. */
  guestTsc(): bigint {
    return this.timer.tscAt(this.opts.clock.now());
  }
  get timerMode(): TimerModeValue {
    return this.timer.timerMode;
  }

  // ---- IA32_APIC_BASE ----

  readApicBaseMsr(): bigint {
    return encodeApicBase(this.pageBase, this.bsp, this.enabled);
  }

  /**
   * WRMSR IA32_APIC_BASE. {ok:false} means #GP(0) (reserved bits, x2APIC, address above
   * MAXPHYADDR). Clearing EN resets the APIC to its power-up state (the SDM: "prior initialization
   * ... may be lost"), and the APIC stops decoding its page and delivering; setting EN again
   * brings it back in that reset state, as on processors with front-side-bus delivery.
   */
  writeApicBaseMsr(value: bigint): MsrWriteResult {
    const decoded = decodeApicBase(value, this.maxPhysAddrBits);
    if ('ok' in decoded) return decoded;
    this.settle();
    if (decoded.base !== this.pageBase) {
      if (!this.opts.onRelocate) {
        throw new VmmError('ENOTSUP', `the guest moves the LAPIC page to ${hex(decoded.base)}, but the monitor gave no onRelocate`);
      }
      this.pageBase = decoded.base;
      this.opts.onRelocate(decoded.base);
    }
    this.bsp = decoded.bsp;
    if (this.enabled && !decoded.enabled) this.powerUpReset(true);
    this.enabled = decoded.enabled;
    this.wake();
    return { ok: true };
  }

  // ---- firmware-role helpers ----

  /**
   * The virtual-wire setup a BIOS leaves for a directly booted kernel (as Firecracker does with
   * KVM_SET_LAPIC): LINT0 ExtINT (the 8259's INTR) and LINT1 NMI, unmasked, the APIC still
   * software-disabled. Linux reprograms both during its APIC setup.
   */
  setVirtualWire(): void {
    this.lvt.set('lint0', DeliveryMode.EXTINT << Lvt.DELIVERY_MODE_SHIFT);
    this.lvt.set('lint1', DeliveryMode.NMI << Lvt.DELIVERY_MODE_SHIFT);
    this.wake();
  }

  /** Power-up or INIT state (SDM "Local APIC State After Power-Up or Reset"); INIT keeps the ID. */
  private powerUpReset(resetId: boolean): void {
    if (resetId) this.id = (this.initialApicId << 24) >>> 0;
    this.prio.reset();
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = SVR_RESET;
    for (const { name } of LVT_LAYOUT) this.lvt.set(name, LVT_RESET);
    this.esrLatched = 0;
    this.esrPending = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.divideConfig = 0;
    this.timer.reset();
    this.extIntMessage = false;
  }

  /** Processes timer expiries up to now under the configuration in force until now. */
  private settle(): void {
    this.timer.poll(this.opts.clock.now());
  }

  private wake(): void {
    this.opts.onWake?.();
  }

  private diagnose(message: string): void {
    this.ignored++;
    this.opts.onDiagnostic?.(`lapic ${this.initialApicId}: ${message}`);
  }

  private checkOffset(offset: number, data: Uint8Array, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > LAPIC_PAGE_SIZE || data.length === 0) {
      throw new VmmError('EINVAL', `LAPIC ${what} of ${data.length} bytes at offset ${hex(Math.max(0, Math.floor(offset) || 0))}: outside the 4 KiB register page`);
    }
  }
}
