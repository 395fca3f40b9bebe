/**
 * Builds a `tsvisor run` machine from a VmConfig and runs its vCPU loop in the calling thread:
 * guest RAM, the kernel (src/vmm/loader), the ACPI tables, the platform devices, the boot vCPU's
 * state. vcpu-worker.ts runs this in a worker thread; tests may call it directly.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';
import type { Machine, Vcpu } from '../../frontend/index.js';
import { Hypervisor } from '../../frontend/index.js';
import { buildAcpiTables } from '../loader/acpi/tables.js';
import { loadLinux } from '../loader/linux.js';
import type { LoadPlan } from '../loader/plan.js';
import { bootVcpuState } from './boot-vcpu.js';
import { DeadlineTimer } from './deadline-timer.js';
import { GIB, PCI_MMIO32, memoryLayout, type RamBlock } from './memory-layout.js';
import { Platform } from './platform.js';
import { HostTimeBase, InstructionTimeBase, type TimeBase } from './time-base.js';
import { PCI_INTX_GSIS } from './acpi-wiring.js';
import type { VmConfig } from './vm-config.js';
import { VcpuLoop, type InterruptSource, type MachineEnd, type VcpuLoopHooks } from './vcpu-loop.js';

export interface MachineIo extends VcpuLoopHooks {
  serialOutput: (byte: number) => void;
  /** The platform is built: host input can be handed to its UART from now on. */
  onPlatform?: (platform: Platform, stop: VcpuStopHandle) => void;
  /** One line about what the monitor did (boot path, sizes); default: nothing. */
  say?: (line: string) => void;
}

export interface RunResult {
  end: MachineEnd | undefined;
  backend: string;
}

interface Ram { block: RamBlock; bytes: Uint8Array }

function ramAt(rams: readonly Ram[], gpa: number, length: number, what: string): Uint8Array {
  const r = rams.find((x) => gpa >= x.block.gpa && gpa + length <= x.block.gpa + x.block.size);
  if (!r) throw new VmmError('EFAULT', `${what} at ${hex(gpa)}+${hex(length)} is not inside guest RAM`);
  return r.bytes.subarray(gpa - r.block.gpa, gpa - r.block.gpa + length);
}

function copyPlan(plan: LoadPlan, rams: readonly Ram[]): void {
  for (const s of plan.segments) {
    const dst = ramAt(rams, s.gpa, s.memSize, s.what);
    dst.set(s.bytes);
    dst.fill(0, s.bytes.length);
  }
}

/** The 8259 pair as the CPU's interrupt source (no LAPIC announced): its INT pin and INTA cycle. */
function picSource(platform: Platform): InterruptSource {
  return { pending: () => platform.intr.level, take: () => platform.pic.acknowledge() };
}

export function runMachine(config: VmConfig, io: MachineIo): RunResult {
  if (config.cpus !== 1) throw new VmmError('ENOTSUP', `--cpus ${config.cpus}: only 1 vCPU is supported so far`);
  if (config.disks.length > 0 || config.rng) {
    throw new VmmError('ENOTSUP', `${config.disks.length > 0 ? '--disk' : '--rng'}: virtio devices are not wired into the monitor yet (they need the LAPIC/IOAPIC interrupt path)`);
  }
  const say = io.say ?? (() => {});
  const layout = memoryLayout(config.memBytes);
  const hv = Hypervisor.open({ backend: config.backend });
  let timer: DeadlineTimer | undefined;
  try {
    const m: Machine = hv.createMachine();
    const rams: Ram[] = layout.ram.map((block) => {
      const mem = m.allocate(block.size);
      m.map(block.gpa, mem);
      return { block, bytes: mem.bytes };
    });
    const acpi = buildAcpiTables({ vcpus: config.cpus, pci: { mem32: PCI_MMIO32, intxGsis: PCI_INTX_GSIS } });
    ramAt(rams, acpi.gpa, acpi.bytes.length, 'ACPI tables').set(acpi.bytes);
    const plan = loadLinux({
      kernel: config.kernel, initrd: config.initrd, cmdline: config.cmdline, memory: layout.map, acpiRsdpGpa: acpi.rsdpGpa,
    });
    copyPlan(plan, rams);
    say(`${hv.backend} backend, ${config.memBytes / 2 ** 20} MiB, kernel ${plan.path}${plan.decompression ? ` (${plan.decompression.codec}, ${plan.decompression.compressedBytes} -> ${plan.decompression.decompressedBytes} bytes)` : ''}, entry ${hex(plan.entry.rip)}`);

    const cpu: Vcpu = m.createVcpu(0);
    cpu.setState(bootVcpuState(plan, rams[0]!.bytes));
    const time: TimeBase = hv.backend === 'soft' ? new InstructionTimeBase(cpu) : new HostTimeBase();
    const platform = new Platform({
      clock: time, serialOutput: io.serialOutput,
      ram: { belowFourGiB: layout.ram[0]!.size, aboveFourGiB: layout.ram[1]?.size ?? 0 },
      onPower: () => {},
    });
    timer = new DeadlineTimer(cpu.stopHandle());
    io.onPlatform?.(platform, cpu.stopHandle());
    const end = new VcpuLoop(cpu, platform, picSource(platform), timer, time, io).run();
    return { end, backend: hv.backend };
  } finally {
    void timer?.close();
    hv.close();
  }
}

export { GIB };
