/**
 * One Intel 8259A programmable interrupt controller, as the data sheet describes it: the
 * initialization sequence (ICW1-ICW4), the operation command words (OCW1 = mask, OCW2 = EOI and
 * rotation, OCW3 = register read select, poll, special mask mode), IRR/ISR/IMR, priority with
 * rotation, auto-EOI, special fully nested mode, level (LTIM or the PC's ELCR) and edge triggering.
 * The pair on a PC (master + slave on IR2) is pic-8259.ts.
 *
 * Edge inputs latch: a rising edge sets the IRR bit, which stays until the interrupt is acknowledged,
 * even if the line has already gone low (devices here pulse() their lines; on silicon a line that
 * drops before INTA gives a spurious IR7 instead, which a virtual board has no reason to reproduce).
 */

/** ICW4 bits. */
const ICW4_X86 = 0x01, ICW4_AUTO_EOI = 0x02, ICW4_SFNM = 0x10;
/** ICW1 bits. */
const ICW1_NEED_ICW4 = 0x01, ICW1_SINGLE = 0x02, ICW1_LTIM = 0x08;

/** Where the initialization sequence is: the next write to the data port is ICW2, 3 or 4. */
type InitStep = 'ready' | 'icw2' | 'icw3' | 'icw4';

export class Pic8259Chip {
  irr = 0;
  isr = 0;
  imr = 0;
  /** The edge/level control register (a PC chipset addition; bits of 1 are level-triggered). */
  elcr = 0;
  vectorBase = 0;
  /** ICW3: on the master, which inputs have slaves; on a slave, its cascade id. */
  icw3 = 0;
  single = false;
  /** Whether ICW4 selected 8086 mode; 8080/8085 (CALL) mode is not modelled. */
  x86Mode = false;
  autoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  private levelTriggeredAll = false;
  private rotateOnAutoEoi = false;
  /** The input with the highest priority is (lowestPriority + 1) & 7. */
  private lowestPriority = 7;
  private readIsr = false;
  private pollPending = false;
  private needIcw4 = false;
  private step: InitStep = 'ready';
  /** Current input levels (for edge detection and level-triggered inputs). */
  private lines = 0;
  private outputLevel = false;

  constructor(
    private readonly isMaster: boolean,
    private readonly elcrMask: number,
    private readonly onOutput: (level: boolean) => void,
  ) {}

  get output(): boolean {
    return this.outputLevel;
  }

  private levelMask(): number {
    return this.levelTriggeredAll ? 0xff : this.elcr;
  }

  setInput(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (level) {
      if (this.levelMask() & bit || !(this.lines & bit)) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.levelMask() & bit) this.irr &= ~bit;
    }
    this.update();
  }

  setElcr(value: number): void {
    this.elcr = value & this.elcrMask;
    // A level input that is high now requests; one that is low does not.
    this.irr = (this.irr & ~this.levelMask()) | (this.lines & this.levelMask());
    this.update();
  }

  /** The highest-priority bit of mask as an IR number, or -1. */
  private highest(mask: number): number {
    for (let i = 1; i <= 8; i++) {
      const irq = (this.lowestPriority + i) & 7;
      if (mask & (1 << irq)) return irq;
    }
    return -1;
  }

  private rank(irq: number): number {
    return (irq - this.lowestPriority - 1) & 7;
  }

  /** The input the chip would interrupt for now, or -1 (nothing pending above what is in service). */
  pending(): number {
    const irq = this.highest(this.irr & ~this.imr);
    if (irq < 0) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    // Special fully nested mode: a slave's higher request may interrupt its own in-service one.
    if (this.specialFullyNested) inService &= ~this.cascadeBits();
    const current = this.highest(inService);
    return current < 0 || this.rank(irq) < this.rank(current) ? irq : -1;
  }

  /**
   * The INTA cycle: the input being served, which moves from IRR to ISR (or not, in auto-EOI mode),
   * or -1 when nothing is pending (the caller returns the IR7 vector: a spurious interrupt).
   */
  acknowledge(): number {
    const irq = this.pending();
    if (irq < 0) return -1;
    this.take(irq);
    return irq;
  }

  private take(irq: number): void {
    const bit = 1 << irq;
    if (!(this.levelMask() & bit)) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowestPriority = irq;
    } else {
      this.isr |= bit;
    }
    this.update();
  }

  update(): void {
    const level = this.pending() >= 0;
    if (level !== this.outputLevel) {
      this.outputLevel = level;
      this.onOutput(level);
    }
  }

  /** The inputs that have slaves on them (a master in cascade mode). */
  cascadeBits(): number {
    return this.isMaster && !this.single ? this.icw3 : 0;
  }

  /** Port 0 (0x20/0xa0). */
  readCommand(): number {
    if (this.pollPending) {
      this.pollPending = false;
      return this.poll();
    }
    return this.readIsr ? this.isr : this.irr;
  }

  /** Port 1 (0x21/0xa1): the mask register. */
  readData(): number {
    return this.imr;
  }

  /** The poll command's answer: bit 7 set with the input number when one is pending (and it is taken). */
  private poll(): number {
    const irq = this.pending();
    if (irq < 0) return 0;
    this.take(irq);
    return 0x80 | irq;
  }

  writeCommand(v: number): void {
    if (v & 0x10) return this.icw1(v);
    if (v & 0x08) return this.ocw3(v);
    this.ocw2(v);
  }

  writeData(v: number): void {
    switch (this.step) {
      case 'icw2':
        this.vectorBase = v & 0xf8;
        this.step = this.single ? (this.needIcw4 ? 'icw4' : 'ready') : 'icw3';
        return;
      case 'icw3':
        this.icw3 = v;
        this.step = this.needIcw4 ? 'icw4' : 'ready';
        return;
      case 'icw4':
        this.x86Mode = (v & ICW4_X86) !== 0;
        this.autoEoi = (v & ICW4_AUTO_EOI) !== 0;
        this.specialFullyNested = (v & ICW4_SFNM) !== 0;
        this.step = 'ready';
        return;
      case 'ready':
        this.imr = v;
        this.update();
    }
  }

  /** ICW1 starts initialization: masks, in-service and rotation are reset, edge sensing restarts. */
  private icw1(v: number): void {
    this.step = 'icw2';
    this.needIcw4 = (v & ICW1_NEED_ICW4) !== 0;
    this.single = (v & ICW1_SINGLE) !== 0;
    this.levelTriggeredAll = (v & ICW1_LTIM) !== 0;
    this.imr = 0;
    this.isr = 0;
    // Edge inputs must see a new low-to-high transition; level inputs that are high still request.
    this.irr = this.lines & this.levelMask();
    this.lowestPriority = 7;
    this.readIsr = false;
    this.pollPending = false;
    this.specialMask = false;
    this.rotateOnAutoEoi = false;
    // Without ICW4 its bits are all zero: 8080 mode, normal EOI.
    this.x86Mode = false;
    this.autoEoi = false;
    this.specialFullyNested = false;
    this.update();
  }

  /** OCW2: bits 7:5 = R, SL, EOI; bits 2:0 the level for the specific forms. */
  private ocw2(v: number): void {
    const level = v & 7;
    switch (v >> 5) {
      case 0b000: this.rotateOnAutoEoi = false; break;
      case 0b100: this.rotateOnAutoEoi = true; break;
      case 0b001: this.nonSpecificEoi(false); break;
      case 0b101: this.nonSpecificEoi(true); break;
      case 0b011: this.isr &= ~(1 << level); break;
      case 0b111: this.isr &= ~(1 << level); this.lowestPriority = level; break;
      case 0b110: this.lowestPriority = level; break;
      case 0b010: break; // no operation
    }
    this.update();
  }

  private nonSpecificEoi(rotate: boolean): void {
    // The highest-priority in-service level; in special mask mode masked levels are not "in service".
    const irq = this.highest(this.specialMask ? this.isr & ~this.imr : this.isr);
    if (irq < 0) return;
    this.isr &= ~(1 << irq);
    if (rotate) this.lowestPriority = irq;
  }

  /** OCW3: bit 2 poll, bits 1:0 read IRR (10) or ISR (11), bits 6:5 special mask off (10) / on (11). */
  private ocw3(v: number): void {
    if (v & 0x04) this.pollPending = true;
    if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
    if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
    this.update();
  }
}
