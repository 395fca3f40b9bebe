/**
 * Port 0x80, the POST diagnostic port: firmware writes progress codes there, and Linux writes it as an
 * I/O delay (outb_p). Accepting and ignoring the writes is the device (a POST card only displays
 * them); the last code is kept for diagnostics. Reads return 0xff, the open ISA bus.
 */
import type { BusDevice } from '../../bus.js';
import { readByBytes, writeByBytes } from './byte-access.js';

export class PostCodePort implements BusDevice {
  readonly name = 'post-code';
  lastCode: number | undefined;
  writes = 0;

  read(offset: number, data: Uint8Array): void {
    readByBytes(offset, data, () => 0xff);
  }

  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (_off, v) => {
      this.lastCode = v;
      this.writes++;
    });
  }
}
