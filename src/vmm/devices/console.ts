/**
 * toyvirt's console: every byte written to its port is printed, and each line it prints starts
 * with the `mach>` prompt and a tab so that guest output stands apart from the monitor's own.
 * Reading the port returns 0 (the console has no input).
 */
import type { PortDevice } from './device.js';

export const CONSOLE_PORT = 123;
export const CONSOLE_LINE_PREFIX = 'mach>\t';

export class ConsoleDevice implements PortDevice {
  readonly name = 'console';
  readonly base: number;
  readonly count = 1;
  private readonly print: (text: string) => void;
  private atLineStart = true;

  constructor(print: (text: string) => void, port = CONSOLE_PORT) {
    this.print = print;
    this.base = port;
  }

  read(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }

  /** Ends the guest's current line, if it left one open, so the monitor's next line starts clean. */
  endLine(): void {
    if (!this.atLineStart) this.print('\n');
    this.atLineStart = true;
  }

  write(_offset: number, data: Uint8Array): void {
    let text = '';
    for (const byte of data) {
      if (this.atLineStart) text += CONSOLE_LINE_PREFIX;
      text += String.fromCharCode(byte);
      this.atLineStart = byte === 0x0a;
    }
    this.print(text);
  }
}
