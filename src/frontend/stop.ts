/**
 * stopVcpu: stopping a vCPU from any thread by the token its stopHandle() returned. Apart from
 * backend selection so that a thread that only stops vCPUs (the monitor's main thread, its
 * timer and event threads) loads each backend's stop path, not the backends: the soft CPU alone
 * is ~0.3 s of module loading.
 */
import { VmmError } from '../api/errors.js';
import type { BackendName, VcpuStopHandle } from '../api/types.js';
import type { StopFromHandle } from '../backends/backend.js';
import { softStopFromHandle } from '../backends/soft/stop-handle.js';
import { checkKeys } from './checks.js';
import { describe } from './describe.js';
import { kvmStopFromHandle } from './kvm-module.js';

const STOPPERS: Record<BackendName, StopFromHandle> = { kvm: kvmStopFromHandle, soft: softStopFromHandle };

/** Stops a vCPU from any thread, given the token its stopHandle() returned. */
export function stopVcpu(handle: VcpuStopHandle): void {
  const obj = checkKeys('stop handle', handle, ['backend', 'data']);
  const backend = obj['backend'];
  if (backend !== 'kvm' && backend !== 'soft') {
    throw new VmmError('EINVAL', `stop handle backend must be 'kvm' or 'soft', got ${describe(backend)}`);
  }
  const data = obj['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new VmmError('EINVAL', `stop handle data must be an object, got ${describe(data)}`);
  }
  STOPPERS[backend](handle);
}
