/**
 * The PC's Intel 8254 programmable interval timer at ports 0x40-0x43: counter 0 drives IRQ0 (the
 * system timer), counter 1 is the old DRAM refresh timer (its OUT goes nowhere), counter 2's gate and
 * OUT are on system control port B (0x61, see devices/legacy/system-control-port-b.ts), which Linux's
 * TSC calibration polls. Time is the Clock's, counted at 1.193182 MHz; nothing runs between accesses:
 * poll(now) raises IRQ0 for rising edges of OUT0 since the last look and returns the next one's time.
 *
 * IRQ0 is an edge on a PC: each interval in which OUT0 rose at least once gives the line one rising
 * edge (a controller that has not yet taken the previous request would have merged them anyway), and
 * between edges the line follows OUT0.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { BusDevice } from '../bus.js';
import type { Clock } from '../bus/clock.js';
import type { InterruptLine } from '../bus/interrupt-line.js';
import { readByBytes, writeByBytes } from '../devices/legacy/byte-access.js';
import { PIT_TIMEBASE } from '../devices/legacy/timebase.js';
import { PitChannel, type PitAccess } from './pit-channel.js';

/** Port offsets from 0x40. */
export const PIT_PORT = { COUNTER0: 0, COUNTER1: 1, COUNTER2: 2, CONTROL: 3 } as const;
export const PIT_PORT_COUNT = 4;

export class Pit8254 implements BusDevice {
  readonly name = 'pit-8254';
  readonly channels: readonly PitChannel[];
  private lastSyncTick: number;
  private irqLevel = false;

  constructor(private readonly clock: Clock, private readonly irq0: InterruptLine) {
    const t = this.tick();
    // Counters 0 and 1 have their gates tied high on a PC; counter 2's is port 0x61 bit 0 (reset 0).
    this.channels = [new PitChannel(true), new PitChannel(true), new PitChannel(false)];
    for (const ch of this.channels) ch.reset(t);
    this.lastSyncTick = t;
    this.syncIrq(t);
  }

  private tick(): number {
    return PIT_TIMEBASE.tickAt(this.clock.now());
  }

  read(offset: number, data: Uint8Array): void {
    const t = this.tick();
    readByBytes(offset, data, (off) => {
      // The control register is write-only; the bus floats high.
      if (off === PIT_PORT.CONTROL) return 0xff;
      return this.channel(off).readByte(t);
    });
  }

  write(offset: number, data: Uint8Array): void {
    const t = this.tick();
    this.syncIrq(t);
    writeByBytes(offset, data, (off, value) => {
      if (off === PIT_PORT.CONTROL) this.controlWord(value, t);
      else this.channel(off).writeByte(value, t);
    });
    this.syncIrq(t);
  }

  private channel(offset: number): PitChannel {
    const ch = this.channels[offset];
    if (!ch) throw new VmmError('EINVAL', `PIT has no register at offset ${hex(offset)}`);
    return ch;
  }

  private controlWord(value: number, t: number): void {
    const select = value >> 6;
    if (select === 3) return this.readBack(value, t);
    const ch = this.channel(select);
    const access = (value >> 4) & 3;
    if (access === 0) ch.latchCount(t);
    else ch.control(access as PitAccess, (value >> 1) & 7, (value & 1) !== 0, t);
  }

  /** Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 3:1 pick counters 2..0. */
  private readBack(value: number, t: number): void {
    for (let i = 0; i < 3; i++) {
      if (!(value & (2 << i))) continue;
      const ch = this.channels[i]!;
      if (!(value & 0x10)) ch.latchStatus(t);
      if (!(value & 0x20)) ch.latchCount(t);
    }
  }

  /** Port 0x61 bit 0: counter 2's gate. */
  setGate2(level: boolean): void {
    this.channels[2]!.setGate(level, this.tick());
  }

  /** Port 0x61 bit 5: counter 2's OUT. */
  out2(): boolean {
    return this.channels[2]!.out(this.tick());
  }

  /** Raises IRQ0 for what OUT0 did up to now; returns the ns of its next rising edge, or Infinity. */
  poll(now: number): number {
    const t = PIT_TIMEBASE.tickAt(now);
    this.syncIrq(t);
    const next = this.channels[0]!.nextRisingEdge(t);
    return next === Infinity ? Infinity : PIT_TIMEBASE.nsAtTick(next);
  }

  private syncIrq(t: number): void {
    if (t < this.lastSyncTick) t = this.lastSyncTick; // a clock that stepped back changes nothing
    const ch0 = this.channels[0]!;
    const rose = ch0.roseBetween(this.lastSyncTick, t);
    this.lastSyncTick = t;
    const out = ch0.out(t);
    if (rose) {
      if (this.irqLevel) this.irq0.set(false);
      this.irq0.set(true);
      this.irqLevel = true;
    }
    if (out !== this.irqLevel) {
      this.irq0.set(out);
      this.irqLevel = out;
    }
  }
}
