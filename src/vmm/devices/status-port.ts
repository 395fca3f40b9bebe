/**
 * toyvirt's status port: the guest writes one byte when it is done, 0 for "my work is done" and
 * anything else for "I failed with this code" (in the manner of QEMU's isa-debug-exit). A guest
 * that ends (shutdown, triple fault) without writing 0 here has not finished, whatever it printed:
 * the monitor reports that as a failure instead of "execution successful".
 */
import type { PortDevice } from './device.js';

export const STATUS_PORT = 124;

export class StatusPortDevice implements PortDevice {
  readonly name = 'status';
  readonly base: number;
  readonly count = 1;
  /** The last code the guest wrote, or undefined while it has written none. */
  code: number | undefined;

  constructor(private readonly onReport: (code: number) => void, port = STATUS_PORT) {
    this.base = port;
  }

  read(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }

  write(_offset: number, data: Uint8Array): void {
    this.code = data[0]!;
    this.onReport(this.code);
  }
}
