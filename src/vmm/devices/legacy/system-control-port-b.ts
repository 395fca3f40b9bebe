/**
 * System control port B (0x61) of a PC: the speaker and PIT counter 2 wiring that Linux's TSC
 * calibration uses (pit_calibrate_tsc sets the gate, programs counter 2 and polls bit 5 until OUT2
 * rises). Bits as on the PC/AT and every chipset since:
 *   write: bit 0 counter 2 gate, bit 1 speaker data enable, bits 2-3 parity/IOCHK check disables (kept)
 *   read:  the same four bits, bit 4 the refresh request toggle (flips every 15.085 us, which old
 *          delay loops count), bit 5 OUT2, bits 6-7 IOCHK/parity error (none here, 0).
 * The speaker makes no sound; what it would play is visible as speakerOn.
 */
import type { BusDevice } from '../../bus.js';
import type { Clock } from '../../bus/clock.js';
import { readByBytes, writeByBytes } from './byte-access.js';

/** What the port needs of the PIT. */
export interface Counter2Wiring {
  setGate2(level: boolean): void;
  out2(): boolean;
}

const WRITABLE = 0x0f, GATE2 = 0x01, SPEAKER_DATA = 0x02, REFRESH = 0x10, OUT2 = 0x20;
/** The refresh toggle's half period on a PC (counter 1 at count 18). */
export const REFRESH_TOGGLE_NS = 15_085;

export class SystemControlPortB implements BusDevice {
  readonly name = 'system-control-port-b';
  private value = 0;

  constructor(private readonly pit: Counter2Wiring, private readonly clock: Clock) {}

  /** Whether the guest has both the counter 2 gate and the speaker data enabled. */
  get speakerOn(): boolean {
    return (this.value & (GATE2 | SPEAKER_DATA)) === (GATE2 | SPEAKER_DATA);
  }

  read(offset: number, data: Uint8Array): void {
    readByBytes(offset, data, () => {
      const refresh = Math.floor(this.clock.now() / REFRESH_TOGGLE_NS) & 1 ? REFRESH : 0;
      return this.value | refresh | (this.pit.out2() ? OUT2 : 0);
    });
  }

  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (_off, v) => {
      this.value = v & WRITABLE;
      this.pit.setGate2((v & GATE2) !== 0);
    });
  }
}
