/**
 * The KVM backend: Linux /dev/kvm through koffi. Entry points used by the frontend.
 *
 * Host notes (what this backend can and cannot do on KVM):
 * - Guest RAM is anonymous mmap'd memory (koffi.view), prot 'r'/'rx' map as KVM_MEM_READONLY.
 *   KVM has no no-execute memory slots: 'rw'/'r' ranges remain executable by the guest.
 * - io/memory/rdmsr/wrmsr exits are completed by KVM on the next run() (backendCompletes);
 *   a setState() in between lets KVM finish first and then applies the caller's values.
 * - CPUID is answered in the kernel: set/del masks work, { exit: true } throws ENOTSUP.
 * - tpr-changed: KVM exits (KVM_EXIT_SET_TPR) only when the guest lowers CR8 and only on hosts
 *   that intercept CR8 writes; raises are visible in exitState.cr8 at the next exit.
 * - nmi-ready is reported at the next entry where NMIs are unmasked (no NMI-window exit in KVM).
 */
import { VmmError } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';
import type { Backend } from '../backend.js';
import { KvmBackend } from './backend.js';
import { KvmSystem } from './system.js';
import { STOP_SLOTS, signalStop } from './stop-signal.js';

export function openKvmBackend(): Backend {
  return new KvmBackend();
}

/** Why KVM cannot be used in this process, or undefined when it can. */
export function kvmUnusableReason(): string | undefined {
  try {
    KvmSystem.get();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Stops a KVM vCPU from any thread, given the token its stopHandle() returned. */
export function kvmStopFromHandle(handle: VcpuStopHandle): void {
  const shared = handle.data['shared'];
  const pid = handle.data['pid'];
  if (!(shared instanceof SharedArrayBuffer) || shared.byteLength !== STOP_SLOTS * 4) {
    throw new VmmError('EINVAL', "kvm: stop handle has no valid SharedArrayBuffer 'shared'");
  }
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid !== process.pid) {
    throw new VmmError('EINVAL', `kvm: stop handle belongs to process ${String(pid)}, not this one (${process.pid})`);
  }
  signalStop(new Int32Array(shared), pid);
}
