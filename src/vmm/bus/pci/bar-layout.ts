/**
 * A BAR split into register blocks (MSI-X table here, PBA there, device registers elsewhere):
 * accesses go to the block that holds them. An access that falls in no block, or straddles a
 * block's end, reads as zeros and its write is dropped: the device has no register there, which
 * is how a device answers unimplemented offsets inside its own BAR.
 */
import { VmmError, hex } from '../../../api/errors.js';
import type { BarHandler } from './function.js';

interface Block { offset: number; size: number; handler: BarHandler }

export class BarLayout implements BarHandler {
  private readonly blocks: Block[] = [];
  /** Accesses no block answered (a driver bug worth seeing in diagnostics). */
  unclaimed = 0;

  constructor(readonly size: number) {}

  add(offset: number, size: number, handler: BarHandler): this {
    if (offset < 0 || size <= 0 || offset + size > this.size) throw new VmmError('EINVAL', `register block ${hex(offset)}+${hex(size)} is outside the ${hex(this.size)}-byte BAR`);
    const clash = this.blocks.find((b) => offset < b.offset + b.size && b.offset < offset + size);
    if (clash) throw new VmmError('EEXIST', `register block ${hex(offset)}+${hex(size)} overlaps the one at ${hex(clash.offset)}`);
    this.blocks.push({ offset, size, handler });
    return this;
  }

  read(offset: number, data: Uint8Array): void {
    const b = this.find(offset, data.length);
    if (b) b.handler.read(offset - b.offset, data);
    else data.fill(0);
  }

  write(offset: number, data: Uint8Array): void {
    const b = this.find(offset, data.length);
    if (b) b.handler.write(offset - b.offset, data);
  }

  private find(offset: number, length: number): Block | undefined {
    const b = this.blocks.find((x) => offset >= x.offset && offset + length <= x.offset + x.size);
    if (!b) this.unclaimed++;
    return b;
  }
}
