/**
 * Interrupt messages between APICs: what a LAPIC sends when the guest writes its ICR (an IPI),
 * what an MSI write to 0xFEExxxxx carries, and how a receiving LAPIC decides whether a message is
 * addressed to it (SDM vol. 3A "Determining IPI Destination"). A LAPIC knows no other vCPU: the
 * monitor routes a message by asking each LAPIC matchesDestination() and calling receive() on
 * the chosen ones.
 */
import { DeliveryMode, DFR_CLUSTER, DFR_FLAT } from './lapic-registers.js';

export type DeliveryModeName = 'fixed' | 'lowest-priority' | 'smi' | 'nmi' | 'init' | 'startup' | 'extint';
export type DestinationMode = 'physical' | 'logical';
export type ShorthandName = 'none' | 'self' | 'all-including-self' | 'all-excluding-self';
export type TriggerMode = 'edge' | 'level';

/** One interrupt message on the (virtual) APIC bus. */
export interface InterruptMessage {
  /** 8-bit destination: an APIC ID (physical), a logical destination (logical); 0xFF is broadcast. */
  destination: number;
  destMode: DestinationMode;
  deliveryMode: DeliveryModeName;
  vector: number;
  /** The ICR/MSI level bit: false only for the INIT level de-assert message. */
  level: boolean;
  trigger: TriggerMode;
}

/** An IPI as the sending LAPIC emits it: the message plus how the guest addressed it. */
export interface IpiRequest extends InterruptMessage {
  shorthand: ShorthandName;
  /** The sender's APIC ID (the monitor needs it for all-excluding-self). */
  source: number;
}

/** Delivery mode field values (ICR/LVT/MSI bits 10:8) to names; 3 (remote read) is not a mode of ours. */
export const DELIVERY_MODE_NAMES: ReadonlyMap<number, DeliveryModeName> = new Map<number, DeliveryModeName>([
  [DeliveryMode.FIXED, 'fixed'], [DeliveryMode.LOWEST_PRIORITY, 'lowest-priority'], [DeliveryMode.SMI, 'smi'],
  [DeliveryMode.NMI, 'nmi'], [DeliveryMode.INIT, 'init'], [DeliveryMode.STARTUP, 'startup'],
  [DeliveryMode.EXTINT, 'extint'],
]);

/** ICR bits 19:18 to names, indexed by the field's value. */
export const SHORTHAND_NAMES: readonly ShorthandName[] = ['none', 'self', 'all-including-self', 'all-excluding-self'];

/** The INIT level de-assert message (Linux still sends it): only P6-era APICs act on it; it changes nothing here. */
export function isInitDeassert(m: InterruptMessage): boolean {
  return m.deliveryMode === 'init' && !m.level && m.trigger === 'level';
}

/** What a LAPIC's addressing registers say about it (xAPIC: the 8-bit fields in bits 31:24). */
export interface ApicAddress {
  apicId: number;
  /** Logical APIC ID, LDR bits 31:24. */
  logicalId: number;
  /** Destination format model, DFR bits 31:28: 0xF flat, 0x0 cluster. */
  model: number;
}

/**
 * Does a message for (destination, destMode) reach this APIC? Physical: its ID, or 0xFF
 * (broadcast). Logical flat: any bit in common with the LDR's 8 bits. Logical cluster: the high
 * nibble names the cluster, the low nibble is a bit mask within it; 0xFF is broadcast in both.
 * A model other than flat or cluster (DFR reserved values) matches nothing.
 */
export function matchesDestination(target: ApicAddress, destination: number, destMode: DestinationMode): boolean {
  const dest = destination & 0xff;
  if (destMode === 'physical') return dest === 0xff || dest === (target.apicId & 0xff);
  if (dest === 0xff) return true;
  if (target.model === DFR_FLAT) return (dest & target.logicalId) !== 0;
  if (target.model === DFR_CLUSTER) {
    return (dest >>> 4) === (target.logicalId >>> 4) && (dest & target.logicalId & 0xf) !== 0;
  }
  return false;
}

/** MSI address (xAPIC format, Intel SDM "Message Signalled Interrupts"): 0xFEE in 31:20. */
const MSI_ADDRESS_PREFIX = 0xfee;
const MSI_DEST_SHIFT = 12;
const MSI_REDIRECTION_HINT = 1 << 3;
const MSI_DEST_LOGICAL = 1 << 2;

/** A decoded MSI: the message plus the redirection hint (RH=1 asks for lowest-priority redirection). */
export interface MsiMessage extends InterruptMessage {
  redirectionHint: boolean;
}

/**
 * Decodes an MSI address/data pair. Returns undefined when the address is not in the interrupt
 * range 0xFEE00000-0xFEEFFFFF (then the write is an ordinary memory write, not an interrupt) or
 * the data names a reserved delivery mode (3): such a write delivers no interrupt.
 */
export function decodeMsi(address: number, data: number): MsiMessage | undefined {
  if (Math.floor(address / 0x100000) !== MSI_ADDRESS_PREFIX) return undefined;
  const deliveryMode = DELIVERY_MODE_NAMES.get((data >>> 8) & 7);
  if (deliveryMode === undefined) return undefined;
  const trigger: TriggerMode = (data & (1 << 15)) !== 0 ? 'level' : 'edge';
  return {
    destination: (address >>> MSI_DEST_SHIFT) & 0xff,
    destMode: (address & MSI_DEST_LOGICAL) !== 0 ? 'logical' : 'physical',
    deliveryMode,
    vector: data & 0xff,
    // Edge-triggered MSIs are always an assertion; for level ones the data's bit 14 says which.
    level: trigger === 'edge' || (data & (1 << 14)) !== 0,
    trigger,
    redirectionHint: (address & MSI_REDIRECTION_HINT) !== 0,
  };
}
