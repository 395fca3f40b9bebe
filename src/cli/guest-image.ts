/**
 * Guest programs the CLI runs: flat binaries built from guests/*.S by `make -C guests`
 * (npm run guests; the published package ships them prebuilt), found relative to this package so
 * the bin works from any directory, installed or not.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VmmError } from '../api/errors.js';

/** dist/src/cli/ -> the package root. */
const GUEST_BUILD = fileURLToPath(new URL('../../../guests/build/', import.meta.url));

/** Path of a guest the package ships, e.g. 'smallkern' (an ELF) or 'calc.bin'. */
export function shippedGuestPath(file: string): string {
  return GUEST_BUILD + file;
}

export function guestImage(name: string): Uint8Array {
  const path = GUEST_BUILD + `${name}.bin`;
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new VmmError('ENOENT', `guest image ${path} not readable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); build the guests with \`npm run guests\``);
  }
}
