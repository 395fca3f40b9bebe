/**
 * System control port A (0x92, "fast A20 and reset" on PS/2 and every chipset since): bit 1 gates
 * A20, and bit 0 going from 0 to 1 resets the CPU (Linux's reboot=... paths and some boot loaders use
 * it). Reads return the last value written; bit 0 reads 0 again after the reset pulse.
 */
import type { BusDevice } from '../../bus.js';
import { readByBytes, writeByBytes } from './byte-access.js';

const FAST_RESET = 0x01, FAST_A20 = 0x02;

export class SystemControlPortA implements BusDevice {
  readonly name = 'system-control-port-a';
  private value = FAST_A20;

  constructor(private readonly onReset: () => void) {}

  get a20(): boolean {
    return (this.value & FAST_A20) !== 0;
  }

  read(offset: number, data: Uint8Array): void {
    readByBytes(offset, data, () => this.value);
  }

  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (_off, v) => {
      const reset = v & FAST_RESET && !(this.value & FAST_RESET);
      this.value = v & ~FAST_RESET;
      if (reset) this.onReset();
    });
  }
}
