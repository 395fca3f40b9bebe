/**
 * Bench guests take their loop or call count as the imm32 of one MOV, assembled with a marker
 * value the bench replaces: guestWithCount finds the opcode bytes followed by that marker
 * (little-endian) in the built guest and writes the count there.
 */
import { guestBinary } from '../test/support.js';

export function guestWithCount(name: string, opcode: readonly number[], marker: number, count: number): Uint8Array {
  const bin = guestBinary(name);
  const pattern = [...opcode, marker & 0xff, (marker >>> 8) & 0xff, (marker >>> 16) & 0xff, marker >>> 24];
  const at = bin.findIndex((_, i) => pattern.every((b, k) => bin[i + k] === b));
  if (at < 0) throw new Error(`${name}: count marker (mov of ${marker}) not found`);
  new DataView(bin.buffer, bin.byteOffset).setUint32(at + opcode.length, count, true);
  return bin;
}
