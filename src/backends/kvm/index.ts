/**
 * PLACEHOLDER written by the frontend engineer so the tree compiles; the KVM engineer owns this
 * file and replaces it with the real backend.
 */
import { VmmError } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';
import type { Backend } from '../backend.js';

export function kvmUnusableReason(): string | undefined {
  return 'kvm backend not built yet';
}

export function openKvmBackend(): Backend {
  throw new VmmError('ENODEV', 'kvm backend not built yet');
}

export function kvmStopFromHandle(_handle: VcpuStopHandle): void {
  throw new VmmError('ENODEV', 'kvm backend not built yet');
}
