/**
 * The KVM backend module, imported so that a host where it cannot even load (koffi without a build
 * for the platform, no glibc libc.so.6 to bind) still gets the soft backend and a clear reason
 * from kvmUnusableReason(), instead of 'tsvisor' failing to import at all.
 */
import { VmmError } from '../api/errors.js';
import type { VcpuStopHandle } from '../api/types.js';
import type { Backend } from '../backends/backend.js';

type KvmModule = typeof import('../backends/kvm/index.js');

let loaded: KvmModule | undefined;
let loadError = '';
try {
  loaded = await import('../backends/kvm/index.js');
} catch (e) {
  loadError = (e as Error).message;
}

function kvm(): KvmModule {
  if (loaded === undefined) throw new VmmError('ENODEV', `kvm backend module does not load here: ${loadError}`);
  return loaded;
}

export function kvmUnusableReason(): string | undefined {
  return loaded === undefined ? `kvm backend module does not load here: ${loadError}` : loaded.kvmUnusableReason();
}
export const openKvmBackend = (): Backend => kvm().openKvmBackend();
export const kvmStopFromHandle = (handle: VcpuStopHandle): void => kvm().kvmStopFromHandle(handle);
