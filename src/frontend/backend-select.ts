/**
 * Which backend a Hypervisor gets. 'auto' means KVM when /dev/kvm is usable and hardware
 * virtualization (not a software KVM such as the PVM module, see backends/kvm/host-kind.ts), else
 * the soft CPU;
 * TSVISOR_BACKEND=kvm|soft in the environment replaces 'auto' (an explicit choice is never
 * overridden, so a test that asks for 'kvm' gets KVM or an error).
 */
import { VmmError } from '../api/errors.js';
import type { BackendChoice, BackendName } from '../api/types.js';
import type { Backend } from '../backends/backend.js';
import { kvmUnusableReason, openKvmBackend } from './kvm-module.js';
import { openSoftBackend } from '../backends/soft/index.js';
import { kvmWithoutHardware } from '../backends/kvm/host-kind.js';
import { describe } from './describe.js';

const OPENERS: Record<BackendName, () => Backend> = { kvm: openKvmBackend, soft: openSoftBackend };
const CHOICES: readonly string[] = ['auto', 'kvm', 'soft'];

/** The choice after applying TSVISOR_BACKEND to 'auto'. */
export function effectiveChoice(choice: unknown, env: Readonly<Record<string, string | undefined>> = process.env): BackendChoice {
  if (!CHOICES.includes(choice as string)) {
    throw new VmmError('EINVAL', `backend must be 'auto', 'kvm' or 'soft', got ${describe(choice)}`);
  }
  const forced = env['TSVISOR_BACKEND'];
  if (choice !== 'auto' || forced === undefined || forced === '') return choice as BackendChoice;
  if (!CHOICES.includes(forced)) {
    throw new VmmError('EINVAL', `TSVISOR_BACKEND must be 'auto', 'kvm' or 'soft', got ${JSON.stringify(forced)}`);
  }
  return forced as BackendChoice;
}

/** The backend modules' entry points (a parameter so the selection logic can be tested alone). */
export interface BackendModules {
  open: Record<BackendName, () => Backend>;
  kvmUnusableReason: () => string | undefined;
  /** Why 'auto' passes over a usable KVM (it is not hardware virtualization), or undefined. */
  kvmWithoutHardware: () => string | undefined;
}
const MODULES: BackendModules = { open: OPENERS, kvmUnusableReason, kvmWithoutHardware };

/** Why 'auto' does not even try KVM here (unusable, or not hardware virtualization), or undefined. */
export function kvmPassedOver(modules: BackendModules = MODULES): string | undefined {
  return modules.kvmUnusableReason() ?? modules.kvmWithoutHardware();
}

/** Opens the chosen backend; for 'auto', KVM unless it is unusable, software only, or refuses with ENODEV; then soft. */
export function openBackend(choice: BackendChoice, modules: BackendModules = MODULES): Backend {
  if (choice !== 'auto') return modules.open[choice]();
  let kvmWhy = kvmPassedOver(modules);
  if (kvmWhy === undefined) {
    try {
      return modules.open.kvm();
    } catch (e) {
      if (!(e instanceof VmmError && e.code === 'ENODEV')) throw e;
      kvmWhy = e.message;
    }
  }
  try {
    return modules.open.soft();
  } catch (e) {
    if (e instanceof VmmError && e.code === 'ENODEV') {
      throw new VmmError('ENODEV', `no backend usable: kvm: ${kvmWhy}; soft: ${e.message}`);
    }
    throw e;
  }
}
