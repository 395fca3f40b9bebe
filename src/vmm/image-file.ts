/**
 * Reads a guest image (kernel, initrd, ELF) named on a command line. Only a regular file of a
 * bounded size is accepted: /dev/zero or a FIFO would otherwise be read forever (a FIFO opened
 * normally even blocks until a writer comes), and a directory is EISDIR, not "not found".
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { VmmError, type VmmErrorCode } from '../api/errors.js';

/** Host errors an image path can give, as the VmmError codes they become. */
const OPEN_ERRORS: Record<string, VmmErrorCode> = { ENOENT: 'ENOENT', ENOTDIR: 'ENOENT', EACCES: 'EACCES', EPERM: 'EACCES', EISDIR: 'EISDIR' };

function kindOf(st: import('node:fs').Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The whole file at path, which must be a regular file of at most maxBytes. what names it in errors ("ELF file"). */
export function readImageFile(path: string, what: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new VmmError(OPEN_ERRORS[code] ?? 'EIO', `cannot read ${what} ${path}: ${code || (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new VmmError('EISDIR', `cannot read ${what} ${path}: it is a directory`);
    if (!st.isFile()) throw new VmmError('EINVAL', `cannot read ${what} ${path}: it is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) {
      throw new VmmError('EFBIG', `${what} ${path} is ${st.size} bytes, more than the ${maxBytes}-byte limit`);
    }
    const bytes = new Uint8Array(st.size);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) throw new VmmError('EIO', `${what} ${path} shrank while being read (${got} of ${st.size} bytes)`);
      got += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
