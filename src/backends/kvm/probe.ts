/** Host figures that need a throwaway vCPU to read (once per process). */
import { VmmError } from '../../api/errors.js';
import { State } from '../../api/types.js';
import { KVM } from './ioctls.js';
import { ioctlRetry, kvmError } from './kvm-error.js';
import { allocateRam, releaseRam } from './guest-ram.js';
import { KvmMachine } from './machine.js';
import type { KvmSystem } from './system.js';

type ProbeVcpu = ReturnType<KvmMachine['createProbeVcpu']>;

/** Runs fn on vCPU 0 of a throwaway machine, destroyed afterwards whatever fn does. */
function withProbeVcpu<T>(system: KvmSystem, fn: (v: ProbeVcpu, m: KvmMachine) => T): T {
  const m = new KvmMachine(system);
  try {
    return fn(m.createProbeVcpu(0), m);
  } finally {
    m.destroy();
  }
}

/** capability()'s host figures, read together on one throwaway vCPU (creating a VM is not free). */
let vcpuFigures: { mxcsrMask: number; cr4Mask: bigint } | undefined;

function probeVcpuFigures(system: KvmSystem): { mxcsrMask: number; cr4Mask: bigint } {
  vcpuFigures ??= withProbeVcpu(system, (v) => {
    const mxcsrMask = v.mxcsrMask(); // from the fresh vCPU, before the CR4 probe changes its state
    return { mxcsrMask, cr4Mask: cr4MaskOf(v) };
  });
  return vcpuFigures;
}

/** MXCSR_MASK as the host's FXSAVE reports it (KVM_GET_XSAVE on a fresh vCPU). */
export function probeMxcsrMask(system: KvmSystem): number {
  return probeVcpuFigures(system).mxcsrMask;
}

/**
 * The CR4 bits (below 32) KVM_SET_SREGS accepts on this host, tried one at a time on a throwaway
 * vCPU in long mode (CR4.PAE kept set). KVM's rule is the guest CPUID plus its own limits
 * (__cr4_reserved_bits, the vendor module's is_valid_cr4), and modules such as PVM add their
 * own; asking KVM itself gives its real answer, which setState then gives for every refused bit
 * with a message naming it instead of a bare errno.
 */
export function probeCr4Mask(system: KvmSystem): bigint {
  return probeVcpuFigures(system).cr4Mask;
}

function cr4MaskOf(v: ProbeVcpu): bigint {
  const CR4_PAE = 1n << 5n;
  v.setState({ crs: { cr0: 0x80000011n, cr3: 0n, cr4: CR4_PAE }, msrs: { efer: 0x500n } }, State.CRS | State.MSRS);
  let mask = CR4_PAE;
  for (let bit = 0n; bit < 32n; bit++) {
    if (1n << bit === CR4_PAE) continue;
    try {
      v.setState({ crs: { cr4: CR4_PAE | (1n << bit) } }, State.CRS);
      mask |= 1n << bit;
    } catch (e) {
      if (!(e instanceof VmmError) || e.code !== 'EINVAL') throw e;
    }
  }
  return mask;
}

let outAdvances: boolean | undefined;

/**
 * Whether this host reports an OUT exit with RIP already past the instruction. VT-x/AMD-V's
 * fast port-I/O path leaves RIP on the OUT (KVM skips it when the caller re-enters); hosts that
 * emulate port I/O (the PVM module here) have finished the OUT when they exit. Seen once per
 * thread with a throwaway 32-bit guest: OUT; OUT; HLT.
 */
export function probeOutAdvancesRip(system: KvmSystem): boolean {
  if (outAdvances !== undefined) return outAdvances;
  const ram = allocateRam(4096);
  try {
    ram.bytes.set([0xe6, 0x10, 0xe6, 0x10, 0xf4], 0);
    outAdvances = withProbeVcpu(system, (v, m) => {
      m.map(0, ram, 0, 4096, 'rwx');
      const flat = { base: 0n, limit: 0xffffffff, s: 1, dpl: 0, p: 1, avl: 0, l: 0, def: 1, g: 1 };
      const data = { ...flat, selector: 0x10, type: 3 };
      v.setState({
        segs: { cs: { ...flat, selector: 0x08, type: 11 }, ds: data, es: data, ss: data, fs: data, gs: data },
        crs: { cr0: 0x11n },
        gprs: { rip: 0n, rflags: 2n },
      }, State.SEGS | State.CRS | State.GPRS);
      if (ioctlRetry(v.fd, KVM.RUN, 0) < 0) throw kvmError('KVM_RUN (OUT probe)');
      return v.getState(State.GPRS).gprs!.rip !== 0n;
    });
  } finally {
    releaseRam(ram);
  }
  return outAdvances;
}
