/**
 * The real backends a test can use here. A backend that cannot run (no usable /dev/kvm, or its
 * module still refuses with ENODEV) is skipped with a visible "# SKIP" line naming why.
 */
import { Hypervisor } from '../../src/index.js';
import type { BackendName } from '../../src/index.js';
import { kvmUnavailableReason } from '../support.js';

export const BACKEND_NAMES: readonly BackendName[] = ['kvm', 'soft'];

const cache = new Map<BackendName, string | false>();

/** false when name opens here, else the reason (printed once per process as a SKIP line). */
export function backendSkip(name: BackendName, what: string): string | false {
  if (!cache.has(name)) {
    let why: string | false = name === 'kvm' ? kvmUnavailableReason() ?? false : false;
    if (!why) {
      try {
        Hypervisor.open({ backend: name }).close();
      } catch (e) {
        why = `${name} backend does not open: ${(e as Error).message}`;
      }
    }
    cache.set(name, why);
  }
  const why = cache.get(name)!;
  if (why) console.log(`# SKIP ${what} on ${name}: ${why}`);
  return why;
}

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
