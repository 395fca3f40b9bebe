/**
 * The ACPI fixed-hardware power-management block (ACPI 6.5 section 4.8): PM1a event block
 * (status/enable), PM1a control block (SCI_EN, SLP_TYP/SLP_EN), the 3.579545 MHz PM timer, and a
 * reset register the FADT names as RESET_REG. One contiguous run of I/O ports, laid out as on the
 * ICH9 (PMBASE 0x600 by default):
 *
 *   base+0x0  PM1a_STS  (16 bits, write 1 to clear)    base+0x2  PM1a_EN (16 bits)
 *   base+0x4  PM1a_CNT  (16 bits)                       base+0x6  reserved (reads all ones)
 *   base+0x8  PM_TMR    (32 bits, read-only)            base+0xC  RESET_REG (8 bits, write RESET_VALUE)
 *
 * Registers are byte-addressable, so any 1/2/4-byte access works the way a chipset decodes it.
 * The SCI is a level-triggered wire (ISA IRQ 9 / GSI 9): asserted while SCI_EN is set and an
 * enabled fixed event (timer carry, power button) is pending.
 *
 * Sleep: the DSDT announces only \_S5 (soft-off); SLP_EN with that SLP_TYP calls onPowerOff
 * (once, until reset()). SLP_TYP 0 is S0, the working state: SLP_EN there changes nothing, as on
 * the chipsets. Any other SLP_TYP with SLP_EN names a sleep state this machine never announced:
 * that is a VmmError ENOTSUP rather than a machine that silently keeps running.
 */
import { VmmError, hex } from '../../../api/errors.js';
import type { Clock } from '../../bus/clock.js';
import type { InterruptLine } from '../../bus/interrupt-line.js';
import type { PortDevice } from '../device.js';

export const ACPI_PM_DEFAULT_BASE = 0x600;
/** The PM timer's frequency: the 14.31818 MHz crystal divided by 4. */
export const PM_TIMER_HZ = 3_579_545;
/** SLP_TYP values the PM1 control register decodes (and the DSDT's \_S5 package carries). */
export const SLP_TYP_S0 = 0;
export const SLP_TYP_S5 = 5;
/** What the guest writes to RESET_REG to reset the machine (the 0xCF9 "full reset" value). */
export const ACPI_RESET_VALUE = 0x06;

/** Offsets inside the block. */
const Reg = { Status: 0x0, Enable: 0x2, Control: 0x4, Timer: 0x8, Reset: 0xc } as const;
const BLOCK_SIZE = 0xd;

/** PM1 status/enable bits (the same positions in both registers). */
export const Pm1 = {
  TMR: 1 << 0, BM: 1 << 4, GBL: 1 << 5, PWRBTN: 1 << 8, SLPBTN: 1 << 9, RTC: 1 << 10, PCIEXP_WAKE: 1 << 14, WAK: 1 << 15,
} as const;
/** Status bits that raise the SCI when enabled (BM and WAK never do; PCIEXP_WAKE is a wake-only event). */
const SCI_EVENTS = Pm1.TMR | Pm1.GBL | Pm1.PWRBTN | Pm1.SLPBTN | Pm1.RTC;
/** PM1_EN bits that hold what is written (bit 14 is PCIEXP_WAKE_DIS). */
const ENABLE_WRITABLE = Pm1.TMR | Pm1.GBL | Pm1.PWRBTN | Pm1.SLPBTN | Pm1.RTC | Pm1.PCIEXP_WAKE;

/** PM1 control bits. */
export const Pm1Cnt = { SCI_EN: 1 << 0, BM_RLD: 1 << 1, GBL_RLS: 1 << 2, SLP_TYP_SHIFT: 10, SLP_TYP_MASK: 7 << 10, SLP_EN: 1 << 13 } as const;
/** Bits that read back what was written (GBL_RLS and SLP_EN are write-only). */
const CONTROL_STORED = Pm1Cnt.SCI_EN | Pm1Cnt.BM_RLD | Pm1Cnt.SLP_TYP_MASK;

/** Where the block's registers are, in the terms the FADT needs. */
export interface AcpiPmPorts {
  pm1aEvent: number;
  pm1aControl: number;
  pmTimer: number;
  /** true: the timer counts 32 bits (FADT TMR_VAL_EXT); false: 24. */
  timer32: boolean;
  reset: number;
  resetValue: number;
  slpTypS5: number;
}

export function acpiPmPorts(base = ACPI_PM_DEFAULT_BASE, timer32 = true): AcpiPmPorts {
  return {
    pm1aEvent: base + Reg.Status, pm1aControl: base + Reg.Control, pmTimer: base + Reg.Timer, timer32,
    reset: base + Reg.Reset, resetValue: ACPI_RESET_VALUE, slpTypS5: SLP_TYP_S5,
  };
}

export interface AcpiPmOptions {
  /** First I/O port of the block; default 0x600. */
  base?: number;
  /** PM timer width; default 32 bits. */
  timer32?: boolean;
  /** The SCI wire (level-triggered), to ISA IRQ 9 / GSI 9. */
  sci: InterruptLine;
  clock: Clock;
  /** The guest entered S5: the machine is off. Called once until reset(). */
  onPowerOff: () => void;
  /** The guest wrote RESET_VALUE to RESET_REG. Called once until reset(). */
  onReset: () => void;
}

const NS_PER_S = 1_000_000_000;

/** Whole PM timer ticks in ns nanoseconds, exactly (products stay below 2^53). */
function ticksIn(ns: number): number {
  const whole = Math.floor(ns / NS_PER_S);
  const n = (ns - whole * NS_PER_S) * PM_TIMER_HZ;
  return whole * PM_TIMER_HZ + (n - (n % NS_PER_S)) / NS_PER_S;
}

/** The first nanosecond at which ticksIn() reaches `ticks`. */
function nsFor(ticks: number): number {
  const whole = Math.floor(ticks / PM_TIMER_HZ);
  const rest = ticks - whole * PM_TIMER_HZ;
  return whole * NS_PER_S + Math.ceil((rest * NS_PER_S) / PM_TIMER_HZ);
}

export class AcpiPmDevice implements PortDevice {
  readonly name = 'acpi-pm';
  readonly base: number;
  readonly count = BLOCK_SIZE;
  readonly ports: AcpiPmPorts;

  private readonly sci: InterruptLine;
  private readonly clock: Clock;
  private readonly onPowerOff: () => void;
  private readonly onReset: () => void;
  /** The timer's most significant bit: TMR_STS sets each time it flips. */
  private readonly msbShift: number;

  private status = 0;
  private enable = 0;
  private control = 0;
  private timerStart = 0;
  /** How many MSB flips TMR_STS had seen when the guest last cleared it. */
  private timerFlipsCleared = 0;
  private poweredOff = false;
  private resetRequested = false;

  constructor(opts: AcpiPmOptions) {
    const base = opts.base ?? ACPI_PM_DEFAULT_BASE;
    if (!Number.isInteger(base) || base < 0 || base + BLOCK_SIZE > 0x10000) {
      throw new VmmError('EINVAL', `ACPI PM block base ${hex(base)} does not leave ${BLOCK_SIZE} ports below 0x10000`);
    }
    this.base = base;
    this.ports = acpiPmPorts(base, opts.timer32 ?? true);
    this.msbShift = this.ports.timer32 ? 31 : 23;
    this.sci = opts.sci;
    this.clock = opts.clock;
    this.onPowerOff = opts.onPowerOff;
    this.onReset = opts.onReset;
    this.reset();
  }

  /** Power-on state: no events, SCI_EN set (no SMI_CMD: the platform is always in ACPI mode), timer at 0. */
  reset(): void {
    this.status = 0;
    this.enable = 0;
    this.control = Pm1Cnt.SCI_EN;
    this.timerStart = this.clock.now();
    this.timerFlipsCleared = 0;
    this.poweredOff = false;
    this.resetRequested = false;
    this.sci.set(false);
  }

  /** The host pressed the power button: PWRBTN_STS, and an SCI if the guest enabled it. */
  pressPowerButton(): void {
    this.status |= Pm1.PWRBTN;
    this.updateSci(this.clock.now());
  }

  /** Raises the SCI for a timer carry that came due; returns the next deadline (ns) or Infinity. */
  poll(now: number): number {
    this.updateSci(now);
    const timerArmed = (this.control & Pm1Cnt.SCI_EN) !== 0 && (this.enable & Pm1.TMR) !== 0;
    if (!timerArmed || this.timerFlips(now) > this.timerFlipsCleared) return Infinity;
    return this.timerStart + nsFor((this.timerFlipsCleared + 1) * 2 ** this.msbShift);
  }

  read(offset: number, data: Uint8Array): void {
    const now = this.clock.now();
    for (let i = 0; i < data.length; i++) data[i] = this.readByte(offset + i, now);
  }

  write(offset: number, data: Uint8Array): void {
    const now = this.clock.now();
    for (let i = 0; i < data.length; i++) this.writeByte(offset + i, data[i]!, now);
    this.updateSci(now);
  }

  private timerTicks(now: number): number {
    return ticksIn(Math.max(0, Math.floor(now - this.timerStart)));
  }

  private timerFlips(now: number): number {
    return Math.floor(this.timerTicks(now) / 2 ** this.msbShift);
  }

  private statusNow(now: number): number {
    const tmr = this.timerFlips(now) > this.timerFlipsCleared ? Pm1.TMR : 0;
    return this.status | tmr;
  }

  private updateSci(now: number): void {
    const pending = (this.statusNow(now) & this.enable & SCI_EVENTS) !== 0;
    this.sci.set((this.control & Pm1Cnt.SCI_EN) !== 0 && pending);
  }

  private readByte(at: number, now: number): number {
    const byteOf = (v: number, lowOffset: number): number => (v >>> (8 * (at - lowOffset))) & 0xff;
    if (at < Reg.Enable) return byteOf(this.statusNow(now), Reg.Status);
    if (at < Reg.Control) return byteOf(this.enable, Reg.Enable);
    if (at < Reg.Control + 2) return byteOf(this.control & CONTROL_STORED, Reg.Control);
    if (at < Reg.Timer) return 0xff; // reserved: nothing decodes it, the bus floats high
    if (at < Reg.Reset) {
      const mask = this.ports.timer32 ? 0xffffffff : 0xffffff;
      return byteOf((this.timerTicks(now) % 2 ** 32) & mask, Reg.Timer);
    }
    return 0; // RESET_REG reads 0
  }

  private writeByte(at: number, v: number, now: number): void {
    const shift = 8 * (at & 1);
    if (at < Reg.Enable) {
      const clear = v << shift;
      if (clear & Pm1.TMR) this.timerFlipsCleared = this.timerFlips(now);
      this.status &= ~clear;
    } else if (at < Reg.Control) {
      this.enable = (this.enable & ~(0xff << shift)) | ((v << shift) & ENABLE_WRITABLE);
    } else if (at < Reg.Control + 2) {
      const written = v << shift;
      this.control = (this.control & ~(0xff << shift)) | (written & CONTROL_STORED);
      if (written & Pm1Cnt.SLP_EN) this.sleep((this.control & Pm1Cnt.SLP_TYP_MASK) >> Pm1Cnt.SLP_TYP_SHIFT);
    } else if (at === Reg.Reset) {
      // Only RESET_VALUE is defined for RESET_REG; other values have no effect, as the FADT specifies.
      if (v === ACPI_RESET_VALUE && !this.resetRequested) {
        this.resetRequested = true;
        this.onReset();
      }
    }
    // Reserved bytes and the read-only timer ignore writes, as the hardware does.
  }

  private sleep(slpTyp: number): void {
    if (slpTyp === SLP_TYP_S0) return;
    if (slpTyp !== SLP_TYP_S5) {
      throw new VmmError('ENOTSUP', `guest set SLP_EN with SLP_TYP ${slpTyp} at port ${hex(this.ports.pm1aControl)}: only S5 (SLP_TYP ${SLP_TYP_S5}) is announced`);
    }
    if (this.poweredOff) return;
    this.poweredOff = true;
    this.onPowerOff();
  }
}
