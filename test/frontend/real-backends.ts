/**
 * The real backends a test can use here. A backend that cannot run (no usable /dev/kvm, or its
 * module still refuses with ENODEV) is skipped with a visible "# SKIP" line naming why.
 */
import { Hypervisor } from '../../src/index.js';
import type { BackendName } from '../../src/index.js';
import { kvmUnavailableReason } from '../support.js';

export { backendSkip } from '../support.js';

export const BACKEND_NAMES: readonly BackendName[] = ['kvm', 'soft'];

/** The first backend that opens here, or undefined. */
export function anyUsableBackend(): BackendName | undefined {
  return BACKEND_NAMES.find((n) => {
    try {
      Hypervisor.open({ backend: n }).close();
      return n !== 'kvm' || kvmUnavailableReason() === undefined;
    } catch {
      return false;
    }
  });
}
