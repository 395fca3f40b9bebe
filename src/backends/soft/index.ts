/**
 * The soft backend: a pure-TypeScript x86-64 CPU behind the Backend interface.
 * Entry points wired into Hypervisor.open by the frontend.
 */
import { VmmError } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';
import type { Backend } from '../backend.js';

export function openSoftBackend(): Backend {
  throw new VmmError('ENODEV', 'soft backend: CPU not built yet');
}

/** Stops a soft vCPU from any thread, given its stopHandle(). */
export function softStopFromHandle(handle: VcpuStopHandle): void {
  const flag = handle.data['stop'];
  if (!(flag instanceof SharedArrayBuffer)) {
    throw new VmmError('EINVAL', `soft backend: stop handle has no SharedArrayBuffer 'stop' (got ${typeof flag})`);
  }
  Atomics.store(new Int32Array(flag), 0, 1);
}
