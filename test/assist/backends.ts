/**
 * The backends the assist tests run on: kvm when usable, soft when its backend opens. Each one
 * that cannot run here is reported with a visible SKIP line, never faked.
 */
import { backendSkip } from '../support.js';

export interface BackendCase { name: 'kvm' | 'soft'; skip: string | false }

export function backendCases(): BackendCase[] {
  return (['kvm', 'soft'] as const).map((name) => ({ name, skip: backendSkip(name, 'assist tests') }));
}
