/**
 * One counter of an Intel 8254: what it counts, what its OUT pin does, and how the guest programs
 * and reads it, all as functions of the PIT tick t (the 1.193182 MHz clock; see pit-8254.ts). Nothing
 * here runs on its own: state changes only on a port access or a gate change, and the counter value
 * and OUT level at any tick are computed from when the counting element was last loaded.
 *
 * Modelled from the 8254 data sheet: modes 0-5 (6 and 7 alias 2 and 3), binary and BCD counting,
 * the write and read flip-flops of the LSB-then-MSB access, the counter latch and read-back
 * (count and status), null count, the gate (pauses modes 0/2/3/4 and forces OUT high in 2/3;
 * retriggers modes 1/5; restarts 2/3 on its rising edge), the count being loaded on the clock after
 * it is written, and in modes 2/3 a new count written while counting taking effect when the current
 * period ends. Simplifications (documented, guest-visible only in odd corners): in mode 3 a new count
 * waits for the end of the whole period rather than the half-cycle; a count of 1 in modes 2/3 (illegal
 * per the data sheet) keeps OUT high and raises no edges; BCD counts with digits above 9 are taken as
 * their decimal weight modulo 10000.
 */

/** Access mode from control word bits 5:4: 1 = LSB only, 2 = MSB only, 3 = LSB then MSB. */
export type PitAccess = 1 | 2 | 3;

const BINARY_MODULUS = 0x10000, BCD_MODULUS = 10000;

export function toBcd(v: number): number {
  return (v % 10) | (Math.floor(v / 10) % 10) << 4 | (Math.floor(v / 100) % 10) << 8 | (Math.floor(v / 1000) % 10) << 12;
}

export function fromBcd(word: number): number {
  return (word & 0xf) + ((word >> 4) & 0xf) * 10 + ((word >> 8) & 0xf) * 100 + ((word >> 12) & 0xf) * 1000;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

export class PitChannel {
  /** Mode bits as the guest wrote them (0-7; status read-back returns these). */
  private rawMode = 3;
  private bcd = false;
  private access: PitAccess = 3;
  private gate: boolean;

  /** The count register: the last complete count written (1..modulus; 0 was written as modulus). */
  private initial = BINARY_MODULUS;
  /** The count in the counting element. */
  private count = BINARY_MODULUS;
  /** Whether the counting element holds a count since the last control word (modes 1/5: was triggered). */
  private counting = false;
  /** The tick at which the counting element was loaded (elapsed 0). */
  private loadTick = 0;
  /** Elapsed ticks held while counting is suspended (gate low, or mode 0 between LSB and MSB writes). */
  private frozenElapsed: number | undefined;
  private midWrite = false;
  /** Whether a count was written since the last control word (modes 1/5 need one to trigger). */
  private hasCount = false;
  /** Modes 2/3: a count written while counting, loaded when the current period ends. */
  private pending: { at: number; count: number } | undefined;
  /** What a read returns while nothing is counting (the value when counting stopped). */
  private heldValue = 0;
  /** Null count (status bit 6) is set until this tick. */
  private nullCountUntil = -Infinity;

  private writeMsbNext = false;
  private lsbWritten = 0;
  private readMsbNext = false;
  private latchedCount: number | undefined;
  private latchedStatus: number | undefined;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  /** The mode the counter behaves as (6 and 7 are 2 and 3). */
  get mode(): number {
    return this.rawMode > 5 ? this.rawMode - 4 : this.rawMode;
  }

  private get modulus(): number {
    return this.bcd ? BCD_MODULUS : BINARY_MODULUS;
  }

  /** What power-on firmware leaves (and QEMU resets to): mode 3, count 65536, binary, LSB-MSB, counting. */
  reset(t: number): void {
    this.control(3, 3, false, t);
    this.loadCount(BINARY_MODULUS, t);
  }

  /** A control word addressed to this counter (access 1-3; access 0 is the latch command). */
  control(access: PitAccess, rawMode: number, bcd: boolean, t: number): void {
    this.settle(t);
    this.heldValue = this.counting ? this.value(t) : this.heldValue;
    this.rawMode = rawMode & 7;
    this.access = access;
    this.bcd = bcd;
    this.counting = false;
    this.pending = undefined;
    this.frozenElapsed = undefined;
    this.midWrite = false;
    this.hasCount = false;
    this.writeMsbNext = this.readMsbNext = false;
    this.latchedCount = this.latchedStatus = undefined;
    this.nullCountUntil = Infinity;
  }

  /** The counter latch command: the count is held for reading until read out. */
  latchCount(t: number): void {
    this.settle(t);
    if (this.latchedCount === undefined) this.latchedCount = this.displayed(t);
  }

  /** Read-back with STATUS: the status byte is returned by the next read, before any latched count. */
  latchStatus(t: number): void {
    this.settle(t);
    if (this.latchedStatus !== undefined) return;
    this.latchedStatus = (this.out(t) ? 0x80 : 0) | (t < this.nullCountUntil ? 0x40 : 0)
      | this.access << 4 | this.rawMode << 1 | (this.bcd ? 1 : 0);
  }

  readByte(t: number): number {
    this.settle(t);
    if (this.latchedStatus !== undefined) {
      const s = this.latchedStatus;
      this.latchedStatus = undefined;
      return s;
    }
    const word = this.latchedCount ?? this.displayed(t);
    if (this.access === 3 && !this.readMsbNext) {
      this.readMsbNext = true;
      return word & 0xff;
    }
    // The last byte of the access mode has been read: the latch (if any) is released.
    this.readMsbNext = false;
    this.latchedCount = undefined;
    return (this.access === 1 ? word : word >> 8) & 0xff;
  }

  writeByte(value: number, t: number): void {
    this.settle(t);
    if (this.access === 1) return this.countWritten(value, t);
    if (this.access === 2) return this.countWritten(value << 8, t);
    if (!this.writeMsbNext) {
      this.writeMsbNext = true;
      this.lsbWritten = value;
      // Mode 0: writing the first byte stops the count until the second is written.
      if (this.mode === 0 && this.counting && !this.midWrite) {
        this.frozenElapsed ??= Math.max(0, t - this.loadTick);
        this.midWrite = true;
      }
      return;
    }
    this.writeMsbNext = false;
    this.countWritten(this.lsbWritten | value << 8, t);
  }

  private countWritten(word: number, t: number): void {
    const n = (this.bcd ? fromBcd(word) : word) % this.modulus;
    this.loadCount(n === 0 ? this.modulus : n, t);
  }

  private loadCount(n: number, t: number): void {
    this.initial = n;
    this.hasCount = true;
    this.midWrite = false;
    switch (this.mode) {
      case 1: case 5:
        // Armed: counting starts on the next rising edge of the gate.
        this.nullCountUntil = Infinity;
        return;
      case 2: case 3:
        if (this.counting && this.frozenElapsed === undefined && t >= this.loadTick) {
          const e = t - this.loadTick;
          const at = this.loadTick + (Math.floor(e / this.count) + 1) * this.count;
          this.pending = { at, count: n };
          this.nullCountUntil = at;
          return;
        }
        break;
    }
    this.startCounting(n, t);
  }

  /** Loads n into the counting element on the next clock; a low gate holds it (modes 0/2/3/4). */
  private startCounting(n: number, t: number): void {
    this.count = n;
    this.counting = true;
    this.pending = undefined;
    this.loadTick = t + 1;
    this.nullCountUntil = t + 1;
    this.frozenElapsed = this.gateHolds() ? 0 : undefined;
  }

  /** Modes whose counting stops while the gate is low. */
  private gateHolds(): boolean {
    const m = this.mode;
    return !this.gate && (m === 0 || m === 2 || m === 3 || m === 4);
  }

  setGate(level: boolean, t: number): void {
    this.settle(t);
    if (level === this.gate) return;
    this.gate = level;
    const m = this.mode;
    if (m === 1 || m === 5) {
      // The rising edge triggers (or retriggers) the count; the level does not matter after.
      if (level && this.hasCount) this.startCounting(this.initial, t);
      return;
    }
    if (!this.counting) return;
    if (!level) {
      this.frozenElapsed ??= Math.max(0, t - this.loadTick);
      return;
    }
    if (this.midWrite) return;
    if (m === 2 || m === 3) {
      // A rising gate restarts the count (with any count written meanwhile).
      this.startCounting(this.pending?.count ?? this.initial, t);
    } else {
      this.loadTick = t + 1 - (this.frozenElapsed ?? 0);
      this.frozenElapsed = undefined;
    }
  }

  /** Applies a pending mode 2/3 reload whose period has ended by t. */
  private settle(t: number): void {
    if (this.pending && t >= this.pending.at && this.frozenElapsed === undefined) {
      this.count = this.pending.count;
      this.loadTick = this.pending.at;
      this.pending = undefined;
    }
  }

  private elapsed(t: number): number {
    return this.frozenElapsed ?? t - this.loadTick;
  }

  /** The counter value at t (1..modulus, where modulus reads as 0). */
  private value(t: number): number {
    if (!this.counting) return this.heldValue;
    const e = this.elapsed(t), n = this.count;
    if (e < 0) return n % this.modulus;
    switch (this.mode) {
      case 2: return (n - (e % n)) % this.modulus;
      case 3: return squareWaveValue(n, e % n) % this.modulus;
      default: return mod(n - e, this.modulus);
    }
  }

  private displayed(t: number): number {
    const v = this.value(t);
    return this.bcd ? toBcd(v) : v;
  }

  /** The OUT pin at t. */
  out(t: number): boolean {
    this.settle(t);
    const m = this.mode;
    // Idle (after a control word) and before the first load, OUT is low in mode 0, high in the others.
    if (!this.counting) return m !== 0;
    if ((m === 2 || m === 3) && !this.gate) return true;
    const e = this.elapsed(t), n = this.count;
    if (e < 0) return m !== 0;
    switch (m) {
      case 0: case 1: return e >= n;
      case 2: return n < 2 || e % n !== n - 1;
      case 3: return e % n < Math.ceil(n / 2);
      default: return e !== n;
    }
  }

  /** The elapsed count of the first rising edge of OUT after elapsed e, or Infinity. */
  private nextEdgeAfter(e: number): number {
    const n = this.count;
    switch (this.mode) {
      case 0: case 1: return n > e ? n : Infinity;
      case 4: case 5: return n + 1 > e ? n + 1 : Infinity;
      default:
        if (n < 2) return Infinity;
        return (Math.floor(Math.max(e, 0) / n) + 1) * n;
    }
  }

  private suspended(): boolean {
    return !this.counting || this.frozenElapsed !== undefined || ((this.mode === 2 || this.mode === 3) && !this.gate);
  }

  /** The first tick after t at which OUT rises, or Infinity. */
  nextRisingEdge(t: number): number {
    this.settle(t);
    if (this.suspended()) return Infinity;
    return this.loadTick + this.nextEdgeAfter(t - this.loadTick);
  }

  /**
   * Whether OUT rose at some tick in (t0, t1]. A pending reload ends a period, which is itself a rising
   * edge under the old count, so looking at the old count up to t1 is enough.
   */
  roseBetween(t0: number, t1: number): boolean {
    const rose = t1 > t0 && this.nextRisingEdge(t0) <= t1;
    this.settle(t1);
    return rose;
  }
}

/** Mode 3's counter: it counts down by 2 through each half-cycle (odd counts: see the data sheet). */
function squareWaveValue(n: number, p: number): number {
  if (n % 2 === 0) {
    const half = n / 2;
    return n - 2 * (p < half ? p : p - half);
  }
  const high = (n + 1) / 2;
  if (p < high) return p === 0 ? n : n + 1 - 2 * p;
  const q = p - high;
  return q === 0 ? n : n - 1 - 2 * q;
}
