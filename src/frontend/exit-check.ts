/**
 * Shape checks for the exit objects handed back to assistIo / assistMem. Exits normally come
 * straight from run(), but they are caller-supplied arguments, so a hand-made or mutated one gets
 * a VmmError naming the bad field instead of a TypeError deep inside the emulator.
 */
import { VmmError } from '../api/errors.js';
import type { IoExit, MemoryExit, VmExit } from '../api/types.js';
import { checkBool, checkInt, checkU64 } from './checks.js';
import { describe } from './describe.js';

function checkExitObject(what: string, exit: unknown, reason: string): Record<string, unknown> {
  if (typeof exit !== 'object' || exit === null) throw new VmmError('EINVAL', `${what} needs an exit object, got ${describe(exit)}`);
  const obj = exit as Record<string, unknown>;
  if (obj['reason'] !== reason) throw new VmmError('EINVAL', `${what} needs a '${reason}' exit, got reason ${describe(obj['reason'])}`);
  return obj;
}

function checkBytes(what: string, v: unknown): void {
  if (!(v instanceof Uint8Array)) throw new VmmError('EINVAL', `${what} must be a Uint8Array, got ${describe(v)}`);
}

export function checkIoExit(exit: VmExit): IoExit {
  const obj = checkExitObject('assistIo', exit, 'io');
  checkInt('io exit port', obj['port'], 0, 0xffff);
  checkBool('io exit in', obj['in']);
  const size = checkInt('io exit size', obj['size'], 1, 4);
  if (size === 3) throw new VmmError('EINVAL', 'io exit size must be 1, 2 or 4, got 3');
  checkBytes('io exit data', obj['data']);
  if ((obj['data'] as Uint8Array).length < size) {
    throw new VmmError('EINVAL', `io exit data holds ${(obj['data'] as Uint8Array).length} bytes, less than its size ${size}`);
  }
  checkBool('io exit rep', obj['rep']);
  checkBool('io exit str', obj['str']);
  checkU64('io exit npc', obj['npc']);
  return exit as IoExit;
}

export function checkMemoryExit(exit: VmExit): MemoryExit {
  const obj = checkExitObject('assistMem', exit, 'memory');
  checkInt('memory exit gpa', obj['gpa'], 0, Number.MAX_SAFE_INTEGER);
  checkBool('memory exit write', obj['write']);
  checkInt('memory exit size', obj['size'], 1, 64);
  checkBytes('memory exit instBytes', obj['instBytes']);
  if (obj['data'] !== undefined) checkBytes('memory exit data', obj['data']);
  return exit as MemoryExit;
}
