/**
 * The PC's CMOS real-time clock, a Motorola MC146818 (ports 0x70 index / 0x71 data; bit 7 of the
 * index write is the NMI mask), with 128 bytes of CMOS: 14 clock registers and battery-backed RAM
 * holding what firmware left for the OS (shutdown status 0x0f, memory sizes, the century at 0x32).
 *
 * Time comes from the host date, read once at construction, advanced by the monitor's Clock; what the
 * guest writes to the clock is kept as an offset in seconds from the host's time (offsetSeconds), so
 * the host clock is never touched. Time registers read in BCD or binary and 12- or 24-hour form as
 * register B says; since the time is held as a count of seconds, switching DM or 24/12 re-encodes the
 * current time (on the chip the stored bytes would be reinterpreted instead), and out-of-range values
 * written by the guest normalize the way a calendar does (minute 61 is the next hour's minute 1).
 *
 * Register A: UIP reads 1 during the 244 us before each second's update; the divider (bits 6:4) runs
 * the clock only at 010 (32.768 kHz); RS (bits 3:0) picks the periodic rate. Register B's SET bit
 * stops updates (and clears UIE) while the guest writes the time. Register C's flags (periodic,
 * alarm, update-ended) are set whatever the enables; IRQF and the IRQ8 line rise when an enabled
 * flag is set, and reading C clears them all. poll(now) raises what is due and returns the next time
 * an enabled interrupt can occur.
 */
import { VmmError } from '../../../api/errors.js';
import type { BusDevice } from '../../bus.js';
import type { Clock } from '../../bus/clock.js';
import type { InterruptLine } from '../../bus/interrupt-line.js';
import { readByBytes, writeByBytes } from './byte-access.js';
import { RTC_TIMEBASE } from './timebase.js';

/** CMOS indexes. */
export const CMOS = {
  SECONDS: 0x00, SECONDS_ALARM: 0x01, MINUTES: 0x02, MINUTES_ALARM: 0x03, HOURS: 0x04, HOURS_ALARM: 0x05,
  DAY_OF_WEEK: 0x06, DAY_OF_MONTH: 0x07, MONTH: 0x08, YEAR: 0x09, REG_A: 0x0a, REG_B: 0x0b, REG_C: 0x0c,
  REG_D: 0x0d, SHUTDOWN_STATUS: 0x0f, BASE_MEM_LO: 0x15, BASE_MEM_HI: 0x16, EXT_MEM_LO: 0x17, EXT_MEM_HI: 0x18,
  CHECKSUM_HI: 0x2e, CHECKSUM_LO: 0x2f, EXT_MEM2_LO: 0x30, EXT_MEM2_HI: 0x31, CENTURY: 0x32,
  MEM_ABOVE_16M_LO: 0x34, MEM_ABOVE_16M_HI: 0x35, MEM_ABOVE_4G: 0x5b,
} as const;

const A_UIP = 0x80, B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_BINARY = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
const D_VRT = 0x80;
const DIVIDER_32K = 0x20;
const NS_PER_S = 1e9, S_PER_DAY = 86400;
/** UIP goes high this long before the update (244 us: 8 periods of the 32.768 kHz base). */
export const UIP_LEAD_NS = 244_141;
const KIB = 1024, MIB = 1024 * KIB, GIB = 1024 * MIB;

export interface CmosRtcOptions {
  /** Monotonic time (ns) that advances the clock and times its interrupts. */
  clock: Clock;
  /** The host's date in ms since the Unix epoch, read once (default Date.now). */
  hostDateMs?: () => number;
  /** IRQ8. */
  irq: InterruptLine;
  /** Guest RAM for the memory-size bytes firmware leaves in CMOS. */
  ram?: { belowFourGiB: number; aboveFourGiB?: number };
}

interface Fields { year: number; month: number; day: number; hour: number; minute: number; second: number }

export class CmosRtc implements BusDevice {
  readonly name = 'cmos-rtc';
  private readonly cmos = new Uint8Array(128);
  private index = 0;
  /** Whether the last index write set bit 7 (NMI disabled on a PC). */
  nmiMasked = false;
  /** Guest seconds at clock time originNs (the guest's second boundaries fall on originNs + k s). */
  private secondsAtOrigin: number;
  private originNs: number;
  private readonly hostSecondsAtStart: number;
  private readonly hostOriginNs: number;
  private frozenSeconds: number | undefined;
  private dayOfWeekAdjust = 0;
  private lastPollNs: number;
  private lastSecond: number;
  private irqLevel = false;

  constructor(private readonly opts: CmosRtcOptions) {
    const ms = (opts.hostDateMs ?? Date.now)();
    if (!Number.isFinite(ms)) throw new VmmError('EINVAL', `RTC host date must be a finite ms count, got ${ms}`);
    const now = opts.clock.now();
    this.secondsAtOrigin = this.hostSecondsAtStart = Math.floor(ms / 1000);
    this.originNs = this.hostOriginNs = now - (ms - this.secondsAtOrigin * 1000) * 1e6;
    this.lastPollNs = now;
    this.lastSecond = this.guestSeconds(now);
    this.cmos[CMOS.REG_A] = DIVIDER_32K | 0x06;   // 32.768 kHz, 1024 Hz periodic rate
    this.cmos[CMOS.REG_B] = B_24H;                // BCD, 24-hour
    this.fillMemorySizes(opts.ram);
  }

  /** Guest time minus host time, in seconds (what the guest's clock writes amount to). */
  get offsetSeconds(): number {
    const now = this.opts.clock.now();
    return this.guestSeconds(now) - (this.hostSecondsAtStart + Math.floor((now - this.hostOriginNs) / NS_PER_S));
  }

  private fillMemorySizes(ram: CmosRtcOptions['ram']): void {
    const below = ram?.belowFourGiB ?? 0, above = ram?.aboveFourGiB ?? 0;
    for (const [what, v] of [['belowFourGiB', below], ['aboveFourGiB', above]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new VmmError('EINVAL', `RTC CMOS ram.${what} must be a byte count, got ${v}`);
    }
    if (below > 4 * GIB) throw new VmmError('EINVAL', `RTC CMOS ram.belowFourGiB is over 4 GiB: ${below}`);
    const put16 = (lo: number, v: number): void => { this.cmos[lo] = v & 0xff; this.cmos[lo + 1] = (v >> 8) & 0xff; };
    put16(CMOS.BASE_MEM_LO, 640);
    const extKiB = Math.min(0xffff, Math.max(0, Math.floor((below - MIB) / KIB)));
    put16(CMOS.EXT_MEM_LO, extKiB);
    put16(CMOS.EXT_MEM2_LO, extKiB);
    put16(CMOS.MEM_ABOVE_16M_LO, Math.min(0xffff, Math.max(0, Math.floor((below - 16 * MIB) / (64 * KIB)))));
    const above64k = Math.min(0xffffff, Math.floor(above / (64 * KIB)));
    for (let i = 0; i < 3; i++) this.cmos[CMOS.MEM_ABOVE_4G + i] = (above64k >> (8 * i)) & 0xff;
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.cmos[i]!;
    this.cmos[CMOS.CHECKSUM_HI] = (sum >> 8) & 0xff;
    this.cmos[CMOS.CHECKSUM_LO] = sum & 0xff;
  }

  private get regA(): number { return this.cmos[CMOS.REG_A]!; }
  private get regB(): number { return this.cmos[CMOS.REG_B]!; }

  private dividerRunning(): boolean {
    return (this.regA & 0x70) === DIVIDER_32K;
  }

  private running(): boolean {
    return this.dividerRunning() && !(this.regB & B_SET);
  }

  private guestSeconds(now: number): number {
    return this.frozenSeconds ?? this.secondsAtOrigin + Math.floor((now - this.originNs) / NS_PER_S);
  }

  /** Stops or restarts the clock; a restart begins a new second now. */
  private setRunning(now: number, run: boolean): void {
    if (!run && this.frozenSeconds === undefined) {
      this.frozenSeconds = this.guestSeconds(now);
    } else if (run && this.frozenSeconds !== undefined) {
      this.secondsAtOrigin = this.frozenSeconds;
      this.originNs = now;
      this.frozenSeconds = undefined;
    }
    this.lastSecond = this.guestSeconds(now);
  }

  /** Moves the guest's time to seconds (keeping the phase of the second when running). */
  private setGuestSeconds(now: number, seconds: number): void {
    if (this.frozenSeconds !== undefined) this.frozenSeconds = seconds;
    else this.secondsAtOrigin += seconds - this.guestSeconds(now);
    this.lastSecond = this.guestSeconds(now);
  }

  read(offset: number, data: Uint8Array): void {
    // The index port is write-only on a PC; the bus floats high.
    readByBytes(offset, data, (off) => (off === 0 ? 0xff : this.readRegister(this.index)));
  }

  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (off, v) => {
      if (off === 0) {
        this.index = v & 0x7f;
        this.nmiMasked = (v & 0x80) !== 0;
      } else {
        this.writeRegister(this.index, v);
      }
    });
  }

  private encode(v: number): number {
    return this.regB & B_BINARY ? v : (Math.floor(v / 10) % 10) << 4 | (v % 10);
  }

  private decode(v: number): number {
    return this.regB & B_BINARY ? v : (v >> 4) * 10 + (v & 0xf);
  }

  private encodeHour(h: number): number {
    if (this.regB & B_24H) return this.encode(h);
    return this.encode(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.regB & B_24H) return this.decode(v);
    return (this.decode(v & 0x7f) % 12) + (v & 0x80 ? 12 : 0);
  }

  private fields(seconds: number): Fields {
    const d = new Date(seconds * 1000);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }

  private secondsOf(f: Fields): number {
    const d = new Date(0);
    d.setUTCFullYear(f.year, f.month - 1, f.day);
    d.setUTCHours(f.hour, f.minute, f.second, 0);
    const ms = d.getTime();
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  }

  private dayOfWeek(seconds: number): number {
    return ((new Date(seconds * 1000).getUTCDay() + this.dayOfWeekAdjust) % 7) + 1;
  }

  private readRegister(index: number): number {
    const now = this.opts.clock.now();
    const s = this.guestSeconds(now);
    switch (index) {
      case CMOS.SECONDS: return this.encode(this.fields(s).second);
      case CMOS.MINUTES: return this.encode(this.fields(s).minute);
      case CMOS.HOURS: return this.encodeHour(this.fields(s).hour);
      case CMOS.DAY_OF_WEEK: return this.encode(this.dayOfWeek(s));
      case CMOS.DAY_OF_MONTH: return this.encode(this.fields(s).day);
      case CMOS.MONTH: return this.encode(this.fields(s).month);
      case CMOS.YEAR: return this.encode(this.fields(s).year % 100);
      case CMOS.CENTURY: return this.encode(Math.floor(this.fields(s).year / 100) % 100);
      case CMOS.REG_A: return this.regA | (this.updateInProgress(now) ? A_UIP : 0);
      case CMOS.REG_C: {
        this.advance(now);
        const c = this.cmos[CMOS.REG_C]!;
        this.cmos[CMOS.REG_C] = 0;
        this.updateIrq();
        return c;
      }
      case CMOS.REG_D: return D_VRT;
      default: return this.cmos[index]!;
    }
  }

  private updateInProgress(now: number): boolean {
    if (!this.running()) return false;
    const phase = (((now - this.originNs) % NS_PER_S) + NS_PER_S) % NS_PER_S;
    return phase >= NS_PER_S - UIP_LEAD_NS;
  }

  private writeRegister(index: number, v: number): void {
    const now = this.opts.clock.now();
    this.advance(now);
    const s = this.guestSeconds(now);
    const f = this.fields(s);
    switch (index) {
      case CMOS.SECONDS: f.second = this.decode(v); break;
      case CMOS.MINUTES: f.minute = this.decode(v); break;
      case CMOS.HOURS: f.hour = this.decodeHour(v); break;
      case CMOS.DAY_OF_MONTH: f.day = this.decode(v); break;
      case CMOS.MONTH: f.month = this.decode(v); break;
      case CMOS.YEAR: f.year = f.year - (f.year % 100) + this.decode(v); break;
      case CMOS.CENTURY: f.year = this.decode(v) * 100 + (f.year % 100); break;
      case CMOS.DAY_OF_WEEK: {
        const computed = new Date(s * 1000).getUTCDay();
        this.dayOfWeekAdjust = (((this.decode(v) - 1 - computed) % 7) + 7) % 7;
        return;
      }
      case CMOS.REG_A: {
        this.cmos[CMOS.REG_A] = v & 0x7f;
        this.setRunning(now, this.running());
        return;
      }
      case CMOS.REG_B: {
        // Setting SET clears UIE.
        this.cmos[CMOS.REG_B] = v & B_SET ? v & ~B_UIE : v;
        this.setRunning(now, this.running());
        this.updateIrq();
        return;
      }
      case CMOS.REG_C: case CMOS.REG_D: return; // read-only
      default: this.cmos[index] = v; return;
    }
    this.setGuestSeconds(now, this.secondsOf(f));
  }

  /** 32.768 kHz ticks per periodic interrupt for rate select rs (1..15); 0 = none. */
  private periodTicks(): number {
    const rs = this.regA & 0x0f;
    if (rs === 0 || !this.dividerRunning()) return 0;
    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
  }

  /** Sets the C flags for what happened between the last look and now. */
  private advance(now: number): void {
    if (now <= this.lastPollNs) return;
    const period = this.periodTicks();
    if (period && Math.floor(RTC_TIMEBASE.tickAt(now) / period) > Math.floor(RTC_TIMEBASE.tickAt(this.lastPollNs) / period)) {
      this.cmos[CMOS.REG_C]! |= C_PF;
    }
    this.lastPollNs = now;
    if (this.running()) {
      const s = this.guestSeconds(now);
      if (s > this.lastSecond) {
        this.cmos[CMOS.REG_C]! |= C_UF;
        if (this.alarmBetween(this.lastSecond, s)) this.cmos[CMOS.REG_C]! |= C_AF;
        this.lastSecond = s;
      }
    }
    this.updateIrq();
  }

  /** Whether an update at some second in (from, to] matched the alarm (alarm bytes 0xc0-0xff: any). */
  private alarmBetween(from: number, to: number): boolean {
    const want = (index: number, decode: (v: number) => number): number => {
      const raw = this.cmos[index]!;
      return (raw & 0xc0) === 0xc0 ? -1 : decode(raw);
    };
    const sec = want(CMOS.SECONDS_ALARM, (v) => this.decode(v));
    const min = want(CMOS.MINUTES_ALARM, (v) => this.decode(v));
    const hour = want(CMOS.HOURS_ALARM, (v) => this.decodeHour(v));
    // The fields repeat every day: no need to look at more than one.
    for (let s = Math.max(from + 1, to - S_PER_DAY + 1); s <= to; s++) {
      const t = ((s % S_PER_DAY) + S_PER_DAY) % S_PER_DAY;
      if ((sec < 0 || sec === t % 60) && (min < 0 || min === Math.floor(t / 60) % 60) && (hour < 0 || hour === Math.floor(t / 3600))) return true;
    }
    return false;
  }

  private updateIrq(): void {
    const c = this.cmos[CMOS.REG_C]!, b = this.regB;
    const irqf = (c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) || (c & C_UF && b & B_UIE);
    if (irqf) this.cmos[CMOS.REG_C] = c | C_IRQF;
    const level = (this.cmos[CMOS.REG_C]! & C_IRQF) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.opts.irq.set(level);
    }
  }

  /** Raises IRQ8 for what is due; returns when an enabled interrupt can next occur, or Infinity. */
  poll(now: number): number {
    this.advance(now);
    if (this.irqLevel) return Infinity; // nothing changes on the line until the guest reads C
    let next = Infinity;
    const period = this.periodTicks();
    if (period && this.regB & B_PIE) {
      next = RTC_TIMEBASE.nsAtTick((Math.floor(RTC_TIMEBASE.tickAt(now) / period) + 1) * period);
    }
    if (this.regB & (B_UIE | B_AIE) && this.running()) {
      next = Math.min(next, this.originNs + (Math.floor((now - this.originNs) / NS_PER_S) + 1) * NS_PER_S);
    }
    return next;
  }
}
