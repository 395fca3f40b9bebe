/**
 * The runtime directory where live machines are registered for other processes (tsvisor list):
 * $TSVISOR_RUNDIR, else $XDG_RUNTIME_DIR/tsvisor, else /dev/shm/tsvisor-<uid> where /dev/shm
 * exists (tmpfs: entries are per boot, and creating one costs half what it does on an ext4 /tmp,
 * measured), else <tmpdir>/tsvisor-<uid>. Created 0700; a directory owned by another user is
 * refused (it could be used to spoof or hide entries).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmmError } from '../api/errors.js';

export function runtimeDirPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const forced = env['TSVISOR_RUNDIR'];
  if (forced) return forced;
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg) return join(xdg, 'tsvisor');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `tsvisor-${uid}`);
}

/** The directory, created if missing; throws VmmError EPERM when it cannot be used. */
export function ensureRuntimeDir(dir: string = runtimeDirPath()): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new VmmError('EPERM', `cannot create the machine registry directory ${dir} (${(e as Error).message}); set TSVISOR_RUNDIR to a writable directory`);
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new VmmError('EPERM', `machine registry path ${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new VmmError('EPERM', `machine registry directory ${dir} belongs to uid ${st.uid}, not ${process.getuid()}`);
  }
  return dir;
}
