/**
 * IA32_APIC_BASE (MSR 0x1B, Intel SDM vol. 3A "Local APIC Status and Location"): bit 8 BSP,
 * bit 10 x2APIC enable (EXTD), bit 11 APIC global enable (EN), bits 12..MAXPHYADDR-1 the page
 * address. Bits 0-7 and 9 are reserved. This file only decodes and checks a guest's WRMSR value;
 * lapic.ts acts on it.
 */
import { hex } from '../../api/errors.js';

export const MSR_IA32_APIC_BASE = 0x1b;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;

export const ApicBase = { BSP: 1n << 8n, EXTD: 1n << 10n, ENABLE: 1n << 11n, ADDRESS_SHIFT: 12n } as const;
const RESERVED_LOW = 0x2ffn; // bits 0-7 and 9

/** A WRMSR the model refuses: the monitor injects #GP(0), as the CPU would. */
export interface MsrRefusal {
  ok: false;
  /** Why the CPU would fault, for the monitor's log. */
  reason: string;
}
export type MsrWriteResult = { ok: true } | MsrRefusal;

export interface DecodedApicBase {
  base: number;
  bsp: boolean;
  enabled: boolean;
}

/**
 * Checks a WRMSR value. x2APIC is not offered (CPUID.1:ECX bit 21 is clear), so EXTD is a
 * reserved bit like the others: setting it faults with #GP, which is what an xAPIC-only CPU does
 * and what Linux expects when it probes without the CPUID bit.
 */
export function decodeApicBase(value: bigint, maxPhysAddrBits: number): DecodedApicBase | MsrRefusal {
  const v = BigInt.asUintN(64, value);
  const addressBits = (1n << BigInt(maxPhysAddrBits)) - 1n;
  if ((v & RESERVED_LOW) !== 0n) return refuse(`reserved bits ${hex(v & RESERVED_LOW)} set in ${hex(v)}`);
  if ((v & ApicBase.EXTD) !== 0n) return refuse(`x2APIC enable (bit 10) in ${hex(v)}: x2APIC is not offered (CPUID.1:ECX.x2APIC = 0)`);
  if ((v & ~addressBits) !== 0n) return refuse(`base ${hex(v)} has bits at or above MAXPHYADDR (${maxPhysAddrBits})`);
  return {
    base: Number(v & (addressBits & ~0xfffn)),
    bsp: (v & ApicBase.BSP) !== 0n,
    enabled: (v & ApicBase.ENABLE) !== 0n,
  };
}

export function encodeApicBase(base: number, bsp: boolean, enabled: boolean): bigint {
  return BigInt(base) | (bsp ? ApicBase.BSP : 0n) | (enabled ? ApicBase.ENABLE : 0n);
}

function refuse(reason: string): MsrRefusal {
  return { ok: false, reason: `WRMSR IA32_APIC_BASE: ${reason}` };
}
