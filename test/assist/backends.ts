/**
 * The backends the assist tests run on: kvm when usable, soft when its backend opens. Each one
 * that cannot run here is reported with a visible SKIP line, never faked.
 */
import { Hypervisor } from '../../src/index.js';
import { kvmUnavailableReason } from '../support.js';

export interface BackendCase { name: 'kvm' | 'soft'; skip: string | false }

function probe(name: 'kvm' | 'soft'): string | false {
  if (name === 'kvm') {
    const why = kvmUnavailableReason();
    if (why) return why;
  }
  try {
    Hypervisor.open({ backend: name }).close();
    return false;
  } catch (e) {
    return `${name} backend does not open here: ${(e as Error).message}`;
  }
}

export function backendCases(): BackendCase[] {
  return (['kvm', 'soft'] as const).map((name) => {
    const skip = probe(name);
    if (skip) console.log(`# SKIP assist tests on ${name}: ${skip}`);
    return { name, skip };
  });
}
