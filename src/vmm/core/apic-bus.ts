/**
 * The (virtual) APIC bus: interrupt messages from the IOAPIC, from PCI devices (MSI) and from
 * LAPICs (IPIs) reach the LAPICs they address. One vCPU's LAPIC per entry (the Lapic itself in its
 * own thread, a RemoteApic elsewhere); the monitor connects the ends, the controllers know only
 * their own side.
 */
import type { MsiSink } from '../bus/interrupt-line.js';
import type { IoApicMessage } from '../irq/ioapic.js';
import { decodeMsi, selectTargets, type InterruptMessage, type IpiRequest } from '../irq/lapic.js';
import type { ApicEndpoint } from './apic-directory.js';

export class ApicBus implements MsiSink {
  /** This thread's LAPIC(s) and proxies of the others' (apic-directory.ts). */
  readonly lapics: ApicEndpoint[] = [];
  /** MSI writes that were not a valid interrupt message (counted, as a chipset would drop them). */
  droppedMsis = 0;

  deliver(message: InterruptMessage, sender?: ApicEndpoint, shorthand: IpiRequest['shorthand'] = 'none'): void {
    for (const target of selectTargets(this.lapics, message, shorthand, sender)) target.receive(message);
  }

  fromIoApic(m: IoApicMessage): void {
    this.deliver({ destination: m.destination, destMode: m.destinationMode, deliveryMode: m.deliveryMode, vector: m.vector, level: true, trigger: m.trigger });
  }

  ipi(req: IpiRequest): void {
    const sender = this.lapics.find((l) => l.apicId === req.source);
    this.deliver(req, sender, req.shorthand);
  }

  /** MsiSink: a PCI device wrote address/data to the 0xFEExxxxx range. */
  signal(address: number, data: number): void {
    const m = decodeMsi(address, data);
    if (m === undefined) this.droppedMsis++;
    else this.deliver(m);
  }
}
