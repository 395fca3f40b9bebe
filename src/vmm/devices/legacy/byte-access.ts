/**
 * The legacy PC devices are 8-bit ISA devices: a 16- or 32-bit IN/OUT to one of them is split by the
 * bus into byte cycles at consecutive ports, lowest byte first. These helpers do that split so each
 * device only has byte registers (the bus has already checked the whole access is inside the device).
 */

/** Fills data[i] with the byte register at offset + i. */
export function readByBytes(offset: number, data: Uint8Array, readByte: (offset: number) => number): void {
  for (let i = 0; i < data.length; i++) data[i] = readByte(offset + i) & 0xff;
}

/** Writes data[i] to the byte register at offset + i. */
export function writeByBytes(offset: number, data: Uint8Array, writeByte: (offset: number, value: number) => void): void {
  for (let i = 0; i < data.length; i++) writeByte(offset + i, data[i]!);
}
