/**
 * The PC/AT's pair of 8259A PICs: the master at ports 0x20-0x21 with the slave's INT on its IR2, the
 * slave at 0xa0-0xa1 (IRQ8-15), and the chipset's edge/level control registers at 0x4d0-0x4d1 (IRQ0,
 * 1, 2, 8 and 13 are always edge-triggered, as on the PIIX). Devices get their wire from input(irq);
 * the master's INT goes to the line given at construction, and the monitor, when it delivers the
 * interrupt to a vCPU, runs the INTA cycle with acknowledge(), which returns the vector.
 *
 * Spurious interrupts are as on the hardware: acknowledge() with nothing pending returns the master's
 * IR7 vector without setting ISR; a slave with nothing left to give returns its IR7 (IRQ15) vector,
 * with the master's ISR bit 2 set, which Linux's spurious-IRQ handling expects to EOI.
 */
import { VmmError } from '../../api/errors.js';
import type { BusDevice } from '../bus.js';
import type { InterruptLine } from '../bus/interrupt-line.js';
import { readByBytes, writeByBytes } from '../devices/legacy/byte-access.js';
import { Pic8259Chip } from './pic-8259-chip.js';

/** ELCR bits that can be set: IRQ0-2 on the master and IRQ8/IRQ13 on the slave stay edge-triggered. */
export const ELCR_MASK_MASTER = 0xf8, ELCR_MASK_SLAVE = 0xde;
export const PIC_CASCADE_IRQ = 2;
const SPURIOUS = 7;

/** A chip's two ports: offset 0 = command (ICW1, OCW2, OCW3; reads IRR/ISR/poll), 1 = data (IMR, ICW2-4). */
class PicPorts implements BusDevice {
  constructor(readonly name: string, private readonly chip: Pic8259Chip) {}
  read(offset: number, data: Uint8Array): void {
    readByBytes(offset, data, (off) => (off === 0 ? this.chip.readCommand() : this.chip.readData()));
  }
  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (off, v) => (off === 0 ? this.chip.writeCommand(v) : this.chip.writeData(v)));
  }
}

/** Ports 0x4d0 (master) and 0x4d1 (slave). */
class ElcrPorts implements BusDevice {
  readonly name = 'pic-elcr';
  constructor(private readonly chips: readonly Pic8259Chip[]) {}
  read(offset: number, data: Uint8Array): void {
    readByBytes(offset, data, (off) => this.chips[off]?.elcr ?? 0xff);
  }
  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (off, v) => this.chips[off]?.setElcr(v));
  }
}

export class Pic8259Pair {
  readonly master: Pic8259Chip;
  readonly slave: Pic8259Chip;
  /** Place at I/O 0x20, size 2. */
  readonly masterPorts: BusDevice;
  /** Place at I/O 0xa0, size 2. */
  readonly slavePorts: BusDevice;
  /** Place at I/O 0x4d0, size 2. */
  readonly elcrPorts: BusDevice;
  private readonly lines: InterruptLine[] = [];

  constructor(intr: InterruptLine) {
    this.master = new Pic8259Chip(true, ELCR_MASK_MASTER, (level) => intr.set(level));
    this.slave = new Pic8259Chip(false, ELCR_MASK_SLAVE, (level) => this.master.setInput(PIC_CASCADE_IRQ, level));
    this.masterPorts = new PicPorts('pic-master', this.master);
    this.slavePorts = new PicPorts('pic-slave', this.slave);
    this.elcrPorts = new ElcrPorts([this.master, this.slave]);
    for (let irq = 0; irq < 16; irq++) {
      const chip = irq < 8 ? this.master : this.slave, pin = irq & 7;
      this.lines.push({
        set: (level) => chip.setInput(pin, level),
        pulse: () => { chip.setInput(pin, true); chip.setInput(pin, false); },
      });
    }
  }

  /** The wire of ISA IRQ irq (0-15, not 2: that is the slave's cascade; the AT routes ISA IRQ2 to IRQ9). */
  input(irq: number): InterruptLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === PIC_CASCADE_IRQ) {
      throw new VmmError('EINVAL', `8259 PIC input must be an IRQ in 0..15 other than the cascade IRQ2, got ${irq}`);
    }
    return this.lines[irq]!;
  }

  /** Whether the master's INT output is asserted. */
  hasInterrupt(): boolean {
    return this.master.output;
  }

  private cascaded(): boolean {
    return (this.master.cascadeBits() & (1 << PIC_CASCADE_IRQ)) !== 0;
  }

  /** The INTA cycle: the vector the CPU receives. */
  acknowledge(): number {
    this.requireX86Mode(this.master, 'master');
    const irq = this.master.acknowledge();
    if (irq < 0) return this.master.vectorBase + SPURIOUS;
    if (irq !== PIC_CASCADE_IRQ || !this.cascaded()) return this.master.vectorBase + irq;
    this.requireX86Mode(this.slave, 'slave');
    const slaveIrq = this.slave.acknowledge();
    // The slave's INT drops during the INTA cycle: the master sees a fresh edge if it still requests.
    this.master.setInput(PIC_CASCADE_IRQ, false);
    this.master.setInput(PIC_CASCADE_IRQ, this.slave.output);
    return this.slave.vectorBase + (slaveIrq < 0 ? SPURIOUS : slaveIrq);
  }

  private requireX86Mode(chip: Pic8259Chip, which: string): void {
    if (!chip.x86Mode) {
      throw new VmmError('ENOTSUP', `8259 ${which} PIC is not in 8086 mode (ICW4 bit 0 clear or no ICW4): 8080 CALL-sequence mode is not modelled`);
    }
  }
}
