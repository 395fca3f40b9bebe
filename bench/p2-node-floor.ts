/**
 * For P2's diagnostics: the C reference's lifecycle (bench/c/p2-lifecycle.c), syscall for
 * syscall, issued from this Node process through koffi with no tsvisor code in between. It
 * shows what the kernel charges a Node process for the same KVM work (KVM_CREATE_VM registers
 * an MMU notifier, which locks every mapping of the process: Node has ~180 of them, the C
 * program ~25), i.e. the floor that any VMM written in JavaScript starts from.
 */
import { KVM, KVM_CAP, KVM_MEM_READONLY, KVM_MSR_EXIT_REASON_FILTER, KVM_MSR_EXIT_REASON_UNKNOWN } from '../src/backends/kvm/ioctls.js';
import { KvmSystem } from '../src/backends/kvm/system.js';
import { NativeBlock } from '../src/backends/kvm/native-block.js';
import { CpuidTable } from '../src/backends/kvm/cpuid.js';
import { prepareThread } from '../src/backends/kvm/stop-signal.js';
import {
  CPUID2, ENABLE_CAP, KVM_MSR_FILTER_READ_WRITE, MEMORY_REGION, MSR_FILTER,
} from '../src/backends/kvm/structs.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, nativeView, sys } from '../src/backends/kvm/libc.js';

/** Where each argument lives in the one native block (the cpuid image is built once). */
const CAP = 0, FILTER = 256, BITMAP = 1024, REGION = 1100, REGS = 1200, SIGMASK = 1400, CPUID = 4096;
const RBX = 8, RAX = 0, RDX = 24; // offsets in struct kvm_regs

export function nodeFloorLifecycle(calc: Uint8Array): (a: bigint, b: bigint) => bigint {
  const system = KvmSystem.get();
  const block = new NativeBlock(65536);
  const v = block.view;
  new CpuidTable(system, 0).write(new DataView(block.bytes.buffer, block.bytes.byteOffset + CPUID, 65536 - CPUID));
  if (v.getUint32(CPUID + CPUID2.nent, true) === 0) throw new Error('p2 floor: empty CPUID table');
  const mask = prepareThread().runMask;
  const ok = (rc: number, what: string): number => {
    if (rc < 0) throw new Error(`p2 floor: ${what} failed`);
    return rc;
  };
  const at = (off: number): bigint => block.addr + BigInt(off);
  return (a, b) => {
    const vm = ok(sys.ioctl(system.fd, KVM.CREATE_VM, 0), 'KVM_CREATE_VM');
    sys.ioctl(vm, KVM.SET_TSS_ADDR, 0xfffbd000);
    v.setUint32(CAP + ENABLE_CAP.cap, KVM_CAP.X86_USER_SPACE_MSR, true);
    v.setBigUint64(CAP + ENABLE_CAP.args, BigInt(KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER), true);
    ok(sys.ioctl(vm, KVM.ENABLE_CAP, at(CAP)), 'KVM_ENABLE_CAP');
    block.bytes.fill(0, FILTER, BITMAP + 8);
    const r = FILTER + MSR_FILTER.ranges;
    v.setUint32(r + MSR_FILTER.rangeFlags, KVM_MSR_FILTER_READ_WRITE, true);
    v.setUint32(r + MSR_FILTER.rangeNmsrs, 1, true);
    v.setUint32(r + MSR_FILTER.rangeBase, 0x1b, true);
    v.setBigUint64(r + MSR_FILTER.rangeBitmap, at(BITMAP), true);
    ok(sys.ioctl(vm, KVM.X86_SET_MSR_FILTER, at(FILTER)), 'KVM_X86_SET_MSR_FILTER');
    const mem = sys.mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    nativeView(mem, 4096).set(calc);
    v.setUint32(REGION + MEMORY_REGION.slot, 0, true);
    v.setUint32(REGION + MEMORY_REGION.flags, KVM_MEM_READONLY, true);
    v.setBigUint64(REGION + MEMORY_REGION.guestPhysAddr, 0xfffff000n, true);
    v.setBigUint64(REGION + MEMORY_REGION.memorySize, 4096n, true);
    v.setBigUint64(REGION + MEMORY_REGION.userspaceAddr, mem, true);
    ok(sys.ioctl(vm, KVM.SET_USER_MEMORY_REGION, at(REGION)), 'KVM_SET_USER_MEMORY_REGION');
    const cpu = ok(sys.ioctl(vm, KVM.CREATE_VCPU, 0), 'KVM_CREATE_VCPU');
    const run = sys.mmap(null, system.vcpuMmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
    ok(sys.ioctl(cpu, KVM.SET_CPUID2, at(CPUID)), 'KVM_SET_CPUID2');
    v.setUint32(SIGMASK, 8, true);
    block.bytes.set(mask, SIGMASK + 4);
    ok(sys.ioctl(cpu, KVM.SET_SIGNAL_MASK, at(SIGMASK)), 'KVM_SET_SIGNAL_MASK');
    ok(sys.ioctl(cpu, KVM.GET_REGS, at(REGS)), 'KVM_GET_REGS');
    v.setBigUint64(REGS + RAX, a, true);
    v.setBigUint64(REGS + RBX, b, true);
    v.setBigUint64(REGS + RDX, 0n, true);
    ok(sys.ioctl(cpu, KVM.SET_REGS, at(REGS)), 'KVM_SET_REGS');
    ok(sys.ioctl(cpu, KVM.RUN, 0), 'KVM_RUN');
    ok(sys.ioctl(cpu, KVM.GET_REGS, at(REGS)), 'KVM_GET_REGS');
    const sum = v.getBigUint64(REGS + RBX, true);
    sys.munmap(run, system.vcpuMmapSize);
    sys.close(cpu);
    sys.close(vm);
    sys.munmap(mem, 4096);
    return sum;
  };
}
