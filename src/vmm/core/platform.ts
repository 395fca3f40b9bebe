/**
 * The PC the monitor builds around the vCPU: legacy devices at their PC ports, the interrupt
 * controllers, the ACPI power-management block, on one DeviceBus. Devices know nothing of vCPUs;
 * this file wires their interrupt lines and their power/reset requests, and polls their timers.
 */
import type { Clock } from '../bus/clock.js';
import { DeviceBus } from '../bus.js';
import { AcpiPmDevice } from '../devices/legacy/acpi-pm.js';
import { CmosRtc } from '../devices/legacy/cmos-rtc.js';
import { I8042 } from '../devices/legacy/i8042.js';
import { PC_IO_RANGES, PC_ISA_IRQ } from '../devices/legacy/pc-layout.js';
import { PostCodePort } from '../devices/legacy/post-code.js';
import { Serial16550a } from '../devices/legacy/serial-16550a.js';
import { SystemControlPortA } from '../devices/legacy/system-control-port-a.js';
import { SystemControlPortB } from '../devices/legacy/system-control-port-b.js';
import { IOAPIC_BASE, IOAPIC_MMIO_SIZE, IoApic, type IoApicMessage } from '../irq/ioapic.js';
import { IsaIrqRouting } from '../irq/isa-irq-routing.js';
import { Pic8259Pair } from '../irq/pic-8259.js';
import { Pit8254 } from '../irq/pit-8254.js';
import type { InterruptLine } from '../bus/interrupt-line.js';
import { ACPI_SCI_IRQ } from './acpi-wiring.js';

/** How the machine ended, from the devices' side. */
export type PowerEvent = 'poweroff' | 'reset';

export interface PlatformOptions {
  clock: Clock;
  /** Bytes the guest writes to COM1, in order. */
  serialOutput: (byte: number) => void;
  /** RAM sizes for the CMOS bytes firmware fills. */
  ram: { belowFourGiB: number; aboveFourGiB: number };
  /** Called once when the guest powers off or resets the machine. */
  onPower: (event: PowerEvent) => void;
  /** Where IOAPIC interrupt messages go (the LAPICs). */
  onIoApicMessage: (m: IoApicMessage) => void;
  /** The wire the 8259 pair's INT output drives: the boot CPU's LINT0. */
  picOutput: InterruptLine;
}

/** Anything whose timers raise interrupts: poll(now) raises what is due, returns the next deadline (ns). */
interface Timed { poll(now: number): number }

export class Platform {
  readonly bus = new DeviceBus();
  readonly pic: Pic8259Pair;
  readonly ioapic: IoApic;
  readonly isa: IsaIrqRouting;
  readonly pit: Pit8254;
  readonly uart: Serial16550a;
  readonly rtc: CmosRtc;
  readonly pm: AcpiPmDevice;
  private readonly timed: Timed[];
  /** Adds a device whose timers the platform polls (the LAPICs). */
  addTimed(t: Timed): void {
    this.timed.push(t);
  }
  private powerEvent: PowerEvent | undefined;

  constructor(private readonly opts: PlatformOptions) {
    const { clock } = opts;
    const power = (event: PowerEvent): void => {
      if (this.powerEvent) return;
      this.powerEvent = event;
      opts.onPower(event);
    };
    this.pic = new Pic8259Pair(opts.picOutput);
    this.ioapic = new IoApic(opts.onIoApicMessage);
    this.isa = new IsaIrqRouting(this.pic, this.ioapic);
    this.pit = new Pit8254(clock, this.isa.line(PC_ISA_IRQ.pit));
    this.uart = new Serial16550a({ output: opts.serialOutput, irq: this.isa.line(PC_ISA_IRQ.com1), clock });
    this.rtc = new CmosRtc({ clock, irq: this.isa.line(PC_ISA_IRQ.rtc), ram: opts.ram });
    const kbc = new I8042({ kbdIrq: this.isa.line(PC_ISA_IRQ.keyboard), auxIrq: this.isa.line(PC_ISA_IRQ.mouse), onReset: () => power('reset') });
    this.pm = new AcpiPmDevice({ sci: this.isa.line(ACPI_SCI_IRQ), clock, onPowerOff: () => power('poweroff'), onReset: () => power('reset') });

    const bus = this.bus;
    bus.add(PC_IO_RANGES.picMaster, this.pic.masterPorts);
    bus.add(PC_IO_RANGES.picSlave, this.pic.slavePorts);
    bus.add(PC_IO_RANGES.elcr, this.pic.elcrPorts);
    bus.add(PC_IO_RANGES.pit, this.pit);
    bus.add(PC_IO_RANGES.systemControlPortB, new SystemControlPortB(this.pit, clock));
    bus.add(PC_IO_RANGES.i8042Data, kbc.dataPort);
    bus.add(PC_IO_RANGES.i8042Command, kbc.commandPort);
    bus.add(PC_IO_RANGES.cmosRtc, this.rtc);
    bus.add(PC_IO_RANGES.postCode, new PostCodePort());
    bus.add(PC_IO_RANGES.systemControlPortA, new SystemControlPortA(() => power('reset')));
    bus.add(PC_IO_RANGES.com1, this.uart);
    bus.add({ space: 'io', base: this.pm.base, size: this.pm.count }, this.pm);
    bus.add({ space: 'mmio', base: IOAPIC_BASE, size: IOAPIC_MMIO_SIZE }, this.ioapic);
    this.timed = [this.pit, this.uart, this.rtc, this.pm];
  }

  /** What ended the machine, if anything has. */
  get power(): PowerEvent | undefined {
    return this.powerEvent;
  }

  /** Raises every interrupt due at now; the earliest next deadline (ns), or Infinity. */
  poll(now: number): number {
    let next = Infinity;
    for (const t of this.timed) next = Math.min(next, t.poll(now));
    return next;
  }
}
