/**
 * The xAPIC register page as data (Intel SDM vol. 3A, "Local APIC Register Address Map"): where
 * each register sits in the 4 KiB page, which bits a guest write may change, and the values they
 * take at power-up. lapic.ts implements the behaviour; this file only describes the layout.
 */

/** Offsets in the page. Each register is 32 bits wide, on a 16-byte boundary. */
export const LapicReg = {
  ID: 0x020, VERSION: 0x030, TPR: 0x080, APR: 0x090, PPR: 0x0a0, EOI: 0x0b0, RRD: 0x0c0,
  LDR: 0x0d0, DFR: 0x0e0, SVR: 0x0f0,
  ISR0: 0x100, TMR0: 0x180, IRR0: 0x200,
  ESR: 0x280, LVT_CMCI: 0x2f0, ICR_LOW: 0x300, ICR_HIGH: 0x310,
  LVT_TIMER: 0x320, LVT_THERMAL: 0x330, LVT_PERF: 0x340, LVT_LINT0: 0x350, LVT_LINT1: 0x360, LVT_ERROR: 0x370,
  TIMER_INITIAL: 0x380, TIMER_CURRENT: 0x390, TIMER_DIVIDE: 0x3e0,
} as const;

export const LAPIC_PAGE_SIZE = 4096;
export const LAPIC_DEFAULT_BASE = 0xfee00000;
/** A register slot: 16 bytes, of which the first 4 hold the register. */
export const REG_STRIDE = 16;

/**
 * The version register: version 0x14 (an integrated APIC, as QEMU and KVM report) and "max LVT
 * entry" 6 in bits 23:16, i.e. seven LVT entries, because this model has the CMCI entry (offset
 * 0x2F0). Bit 24 (EOI-broadcast suppression) is clear: SVR bit 12 is not offered.
 */
export const LAPIC_VERSION = 0x14 | (6 << 16);

/**
 * The APIC bus (timer input) frequency: 1 GHz, one tick per nanosecond, as KVM
 * (APIC_BUS_CYCLE_NS = 1) and QEMU's TCG APIC use. A monitor that wants to tell the guest
 * (CPUID leaf 0x15 ECX "core crystal clock", or 0x16 EBX "bus frequency" in MHz) reads it here.
 */
export const APIC_BUS_HZ = 1_000_000_000;

/** The seven LVT entries, in register order, named as the SDM does. */
export type LvtName = 'cmci' | 'timer' | 'thermal' | 'perf' | 'lint0' | 'lint1' | 'error';

/** LVT bit fields (SDM figure "Local Vector Table"). */
export const Lvt = {
  VECTOR: 0xff,
  DELIVERY_MODE_SHIFT: 8, DELIVERY_MODE: 0x700,
  DELIVERY_STATUS: 1 << 12,
  POLARITY_LOW: 1 << 13,
  REMOTE_IRR: 1 << 14,
  TRIGGER_LEVEL: 1 << 15,
  MASKED: 1 << 16,
  TIMER_MODE_SHIFT: 17, TIMER_MODE: 3 << 17,
} as const;

/** Delivery modes, in LVT bits 10:8 and ICR bits 10:8. */
export const DeliveryMode = {
  FIXED: 0, LOWEST_PRIORITY: 1, SMI: 2, REMOTE_READ: 3, NMI: 4, INIT: 5, STARTUP: 6, EXTINT: 7,
} as const;
export type DeliveryModeValue = (typeof DeliveryMode)[keyof typeof DeliveryMode];

/** Timer modes, in LVT timer bits 18:17 (3 is reserved). */
export const TimerMode = { ONE_SHOT: 0, PERIODIC: 1, TSC_DEADLINE: 2, RESERVED: 3 } as const;
export type TimerModeValue = (typeof TimerMode)[keyof typeof TimerMode];

/**
 * Per LVT entry: its offset and the bits a guest write may set (the rest read as 0, or are
 * status bits the APIC maintains). Delivery status and remote IRR are read-only.
 */
export interface LvtLayout {
  readonly name: LvtName;
  readonly offset: number;
  readonly writable: number;
}

const VEC_MASK = Lvt.VECTOR | Lvt.MASKED;
const WITH_MODE = VEC_MASK | Lvt.DELIVERY_MODE;
export const LVT_LAYOUT: readonly LvtLayout[] = [
  { name: 'cmci', offset: LapicReg.LVT_CMCI, writable: WITH_MODE },
  { name: 'timer', offset: LapicReg.LVT_TIMER, writable: VEC_MASK | Lvt.TIMER_MODE },
  { name: 'thermal', offset: LapicReg.LVT_THERMAL, writable: WITH_MODE },
  { name: 'perf', offset: LapicReg.LVT_PERF, writable: WITH_MODE },
  { name: 'lint0', offset: LapicReg.LVT_LINT0, writable: WITH_MODE | Lvt.POLARITY_LOW | Lvt.TRIGGER_LEVEL },
  { name: 'lint1', offset: LapicReg.LVT_LINT1, writable: WITH_MODE | Lvt.POLARITY_LOW | Lvt.TRIGGER_LEVEL },
  { name: 'error', offset: LapicReg.LVT_ERROR, writable: VEC_MASK },
];
export const LVT_BY_NAME: Readonly<Record<LvtName, LvtLayout>> = Object.fromEntries(
  LVT_LAYOUT.map((l) => [l.name, l]),
) as Record<LvtName, LvtLayout>;
export const LVT_BY_OFFSET: ReadonlyMap<number, LvtLayout> = new Map(LVT_LAYOUT.map((l) => [l.offset, l]));
/** Every LVT entry after power-up, INIT, or SVR software-disable: masked, everything else 0. */
export const LVT_RESET = Lvt.MASKED;

/** Spurious-interrupt vector register: vector 7:0, APIC software enable 8, focus checking disabled 9. */
export const Svr = { VECTOR: 0xff, ENABLE: 1 << 8, FOCUS_DISABLED: 1 << 9 } as const;
export const SVR_WRITABLE = Svr.VECTOR | Svr.ENABLE | Svr.FOCUS_DISABLED;
export const SVR_RESET = 0xff;

/** Error status register bits (SDM "Error Status Register"). */
export const Esr = {
  SEND_CHECKSUM: 1 << 0, RECEIVE_CHECKSUM: 1 << 1, SEND_ACCEPT: 1 << 2, RECEIVE_ACCEPT: 1 << 3,
  REDIRECTABLE_IPI: 1 << 4, SEND_ILLEGAL_VECTOR: 1 << 5, RECEIVE_ILLEGAL_VECTOR: 1 << 6, ILLEGAL_REGISTER: 1 << 7,
} as const;

/** ICR low bits (SDM "Interrupt Command Register"); the destination is ICR high bits 31:24. */
export const Icr = {
  VECTOR: 0xff, DELIVERY_MODE_SHIFT: 8, DELIVERY_MODE: 0x700, DEST_LOGICAL: 1 << 11,
  DELIVERY_STATUS: 1 << 12, LEVEL_ASSERT: 1 << 14, TRIGGER_LEVEL: 1 << 15,
  SHORTHAND_SHIFT: 18, SHORTHAND: 3 << 18,
} as const;
export const ICR_LOW_WRITABLE = Icr.VECTOR | Icr.DELIVERY_MODE | Icr.DEST_LOGICAL | Icr.LEVEL_ASSERT |
  Icr.TRIGGER_LEVEL | Icr.SHORTHAND;
export const ICR_HIGH_WRITABLE = 0xff000000;

/** Destination shorthands, ICR bits 19:18. */
export const Shorthand = { NONE: 0, SELF: 1, ALL_INCLUDING_SELF: 2, ALL_EXCLUDING_SELF: 3 } as const;
export type ShorthandValue = (typeof Shorthand)[keyof typeof Shorthand];

/** xAPIC ID, LDR: 8 bits in 31:24. DFR: model in 31:28, bits 27:0 read as ones. */
export const ID_WRITABLE = 0xff000000;
export const LDR_WRITABLE = 0xff000000;
export const DFR_MODEL_MASK = 0xf0000000;
export const DFR_RESERVED_ONES = 0x0fffffff;
export const DFR_FLAT = 0xf;
export const DFR_CLUSTER = 0x0;

/**
 * Divide configuration register: bits 0, 1 and 3 form a 3-bit code (bit 2 is reserved).
 * Index = (bit3 << 2) | bits 1:0; the table gives the divisor.
 */
export const DIVIDE_WRITABLE = 0b1011;
const DIVISORS = [2, 4, 8, 16, 32, 64, 128, 1] as const;
export function divisorOf(dcr: number): number {
  return DIVISORS[((dcr >> 1) & 4) | (dcr & 3)]!;
}

/** The first 16 vectors are reserved for exceptions: the APIC neither sends nor accepts them. */
export const FIRST_LEGAL_VECTOR = 16;
