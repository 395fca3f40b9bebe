/**
 * Whether the process that owns a registry entry is still running. A pid alone can be reused by
 * an unrelated process after a crash, so on Linux the entry also records the process start time
 * (field 22 of /proc/<pid>/stat) and a mismatch counts as dead.
 */
import { readFileSync } from 'node:fs';

/** Start time of pid in clock ticks since boot, or undefined where /proc is not available. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall = index 19 after the state field (field 3)
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}
