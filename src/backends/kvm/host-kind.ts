/**
 * Whether this host's /dev/kvm is hardware virtualization. A kernel can serve the KVM API without
 * VT-x or AMD-V: the PVM module (kvm_pvm, for guests of cloud VMs that get no nested VT-x) runs
 * the guest in host user mode under shadow paging and hands many instructions to KVM's in-kernel
 * emulator, which lacks forms a stock kernel uses (LOCK CMPXCHG16B in the slab allocator, SSE
 * loads) and ends the run with an emulation failure. Such a KVM still runs tsvisor's own guests
 * when asked for by name; 'auto' passes over it.
 */
import { readFileSync, existsSync } from 'node:fs';

/** The host CPU's feature flags from /proc/cpuinfo, or undefined when it cannot be read. */
function hostCpuFlags(cpuinfo: string): Set<string> | undefined {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1];
  return line === undefined ? undefined : new Set(line.trim().split(/\s+/));
}

/**
 * Why this KVM is not hardware virtualization, or undefined when it is (or cannot be told: then
 * it is taken to be). Parameters for tests; by default the running host's files.
 */
export function kvmWithoutHardware(cpuinfo?: string, pvmLoaded?: boolean): string | undefined {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  const flags = hostCpuFlags(text);
  if (flags === undefined || flags.has('vmx') || flags.has('svm')) return undefined;
  const pvm = pvmLoaded ?? existsSync('/sys/module/kvm_pvm');
  return `/dev/kvm here is ${pvm ? 'the PVM module (kvm_pvm)' : 'a KVM'} without VT-x or AMD-V (the host CPU lists neither vmx nor svm): ` +
    "its in-kernel emulator fails instructions stock kernels use, so 'auto' takes the soft CPU (--backend kvm still uses it)";
}
