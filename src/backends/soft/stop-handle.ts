/**
 * Stopping a soft vCPU from another thread: its stop handle carries the vCPU's stop flag (an
 * Int32 in a SharedArrayBuffer that run() polls). A module of its own, so that a thread that only
 * stops vCPUs (the monitor's main thread) does not load the soft CPU.
 */
import { VmmError } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';

/** Stops a soft vCPU from any thread, given its stopHandle(). */
export function softStopFromHandle(handle: VcpuStopHandle): void {
  const flag = handle.data['stop'];
  if (!(flag instanceof SharedArrayBuffer) || flag.byteLength < 4) {
    throw new VmmError('EINVAL', `soft backend: stop handle has no 4-byte SharedArrayBuffer 'stop' (got ${typeof flag})`);
  }
  Atomics.store(new Int32Array(flag), 0, 1);
}
