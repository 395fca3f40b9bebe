/**
 * Which APICs an interrupt message reaches (SDM "Determining IPI Destination" and "Lowest
 * Priority Delivery Mode"). A pure function over whatever the monitor holds for each vCPU (the
 * Lapic itself, or a proxy in another thread): the LAPIC never learns about the others. The
 * monitor then calls receive(message) on each selected target.
 */
import type { DestinationMode, InterruptMessage, ShorthandName } from './lapic-message.js';

export interface RoutableApic {
  readonly arbitrationPriority: number;
  /** False for a globally disabled APIC, whatever the destination. */
  matchesDestination(destination: number, destMode: DestinationMode): boolean;
  /** The focus processor for vector (SDM: the vector is in its IRR or ISR, focus checking on). */
  isFocusFor(vector: number): boolean;
}

/**
 * The targets of message. shorthand and sender come from an IPI (sender: the object of the APIC
 * that wrote the ICR); MSIs and IOAPIC messages use no shorthand. Lowest-priority delivery picks
 * one target: the focus processor if there is one, else the lowest arbitration priority, ties
 * going to the earliest in apics (hardware breaks ties by a rotating arbitration ID; a fixed
 * order is a legal outcome of that and keeps runs reproducible).
 */
export function selectTargets<T extends RoutableApic>(
  apics: readonly T[], message: InterruptMessage, shorthand: ShorthandName = 'none', sender?: T,
): T[] {
  const onBus = apics.filter((a) => a.matchesDestination(0xff, 'physical'));
  let targets: T[];
  switch (shorthand) {
    case 'self': targets = onBus.filter((a) => a === sender); break;
    case 'all-including-self': targets = onBus; break;
    case 'all-excluding-self': targets = onBus.filter((a) => a !== sender); break;
    case 'none': targets = apics.filter((a) => a.matchesDestination(message.destination, message.destMode)); break;
  }
  if (message.deliveryMode !== 'lowest-priority' || targets.length <= 1) return targets;
  const focus = targets.find((a) => a.isFocusFor(message.vector));
  if (focus) return [focus];
  let best = targets[0]!;
  for (const a of targets) if (a.arbitrationPriority < best.arbitrationPriority) best = a;
  return [best];
}
