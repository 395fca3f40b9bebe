/** Host figures that need a throwaway vCPU to read (once per process). */
import { KvmMachine } from './machine.js';
import type { KvmSystem } from './system.js';
import { KvmVcpu } from './vcpu.js';

let mxcsrMask: number | undefined;

/** MXCSR_MASK as the host's FXSAVE reports it (KVM_GET_XSAVE on a fresh vCPU). */
export function probeMxcsrMask(system: KvmSystem): number {
  if (mxcsrMask !== undefined) return mxcsrMask;
  const m = new KvmMachine(system);
  try {
    const v = m.createVcpu(0) as KvmVcpu;
    mxcsrMask = v.mxcsrMask();
  } finally {
    m.destroy();
  }
  return mxcsrMask;
}
