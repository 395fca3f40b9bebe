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
import { PCI_IO_WINDOW, PCI_MMIO32, memoryLayout, type RamBlock } from './memory-layout.js';
import { Platform } from './platform.js';
import { HostTimeBase, InstructionTimeBase, TSC_HZ, type TimeBase } from './time-base.js';
import { ApicBus } from './apic-bus.js';
import { monitorMsrs } from './msr-space.js';
import { Lapic } from '../irq/lapic.js';
import { PciBus } from '../bus/pci/pci-bus.js';
import { assignPciResources } from '../bus/pci/resource-assignment.js';
import { RegionGuestMemory, type GuestMemory } from '../bus/guest-memory.js';
import { HostWriteLog } from './host-writes.js';
import { VirtioBlk } from '../devices/virtio/blk.js';
import { VirtioRng } from '../devices/virtio/rng.js';
import { VirtioNet } from '../devices/virtio/net.js';
import { VirtioVsock } from '../devices/virtio/vsock.js';
import { VirtioPciFunction } from '../devices/virtio/pci-transport.js';
import { LAPIC_PAGE_SIZE } from '../irq/lapic-registers.js';
import { PCI_INTX_GSIS } from './acpi-wiring.js';
import type { VmConfig } from './vm-config.js';
import { FrameRingReader, type FrameRingBuffers } from './frame-ring.js';
import { macBytes } from './net-config.js';
import { NicPort } from './nic-port.js';
import { VcpuLoop, sleep, type MachineEnd, type VcpuLoopHooks } from './vcpu-loop.js';
import { Worker } from 'node:worker_threads';
import type { IoRequest, MachineShare, MemRequest } from '../../api/types.js';
import { publishLapic, RemoteApic } from './apic-directory.js';
import type { ApSetup } from './application-processor.js';
import { DeviceMailboxServer } from './device-mailbox.js';
import { InterruptInbox } from './interrupt-inbox.js';
import { createSmpFabric, MachineEndFlag, type SmpFabric } from './smp-fabric.js';
import { Doorbell, VcpuKick, type DoorbellWord } from './vcpu-kick.js';
import { bootLapicSource, configureVcpuCpuid, hostTscOffset } from './vcpu-interrupts.js';

/** The NICs' host side: where their frames go, and the rings their frames come from (one per NIC, in config order). */
export interface NetIo {
  transmit(nic: number, frame: Uint8Array): void;
  rings: readonly FrameRingBuffers[];
}

/** The vsock device's host side: packets out, the ring packets come in by, and a driver reset. */
export interface VsockIo {
  transmit(packet: Uint8Array): void;
  reset(): void;
  ring: FrameRingBuffers;
}

export interface MachineIo extends VcpuLoopHooks {
  serialOutput: (byte: number) => void;
  /** Required when the config has NICs. */
  net?: NetIo;
  /** Required when the config has a vsock device. */
  vsock?: VsockIo;
  /** Blocks until host input may have arrived, ready() says there is some, or timeoutMs passed. */
  waitForInput?: (timeoutMs: number, ready?: () => boolean) => void;
  /** The platform is built: host input can be handed to its UART from now on. */
  onPlatform?: (platform: Platform, stop: VcpuStopHandle) => void;
  /** One line about what the monitor did (boot path, sizes); default: nothing. */
  say?: (line: string) => void;
  /** The word waitForInput sleeps on: other vCPU threads ring it to wake the boot vCPU (--cpus > 1). */
  wakeWord?: DoorbellWord;
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

/** One line of what went through a NIC and what was dropped, for `tsvisor run -v`. */
function netSummary(nic: VirtioNet, port: NicPort): string {
  const t = nic.stats;
  return `tx ${t.txFrames} frames/${t.txBytes} bytes (${t.txDropped} dropped${t.txDropped ? `, last: ${nic.lastTxDrop}` : ''}), ` +
    `rx ${t.rxFrames} frames/${t.rxBytes} bytes (dropped: ${t.rxBacklogFull} backlog full, ${t.rxOversize} oversize, ${t.rxBufferTooSmall} buffer too small, ${port.droppedWhileDown} driver down)`;
}

/** The devices host packets reach through frame rings: each NIC, and the vsock device. */
interface PacketDevices {
  nics: { model: VirtioNet; port: NicPort }[];
  vsock: NicPort | undefined;
}

/** virtio devices on PCI bus 0, their BARs placed as firmware would, config ports and windows on the bus. */
function addPciDevices(config: VmConfig, platform: Platform, apicBus: ApicBus, mem: GuestMemory, closers: (() => void)[], net: NetIo | undefined, vsockIo: VsockIo | undefined): PacketDevices {
  const pci = new PciBus({ intx: PCI_INTX_GSIS.map((gsi) => platform.ioapic.input(gsi)), intxGsis: PCI_INTX_GSIS });
  config.disks.forEach((d, i) => {
    const blk = new VirtioBlk({ path: d.path, readOnly: d.readOnly });
    closers.push(() => blk.close());
    pci.add(new VirtioPciFunction(`virtio-blk${i}`, blk, { mem, msi: apicBus }));
  });
  if (config.rng) pci.add(new VirtioPciFunction('virtio-rng', new VirtioRng(), { mem, msi: apicBus }));
  const nics = config.nics ?? [];
  if (nics.length > 0 && (!net || net.rings.length !== nics.length)) throw new VmmError('EINVAL', `${nics.length} NICs configured but the monitor gave ${net?.rings.length ?? 0} frame rings`);
  const nicDevices = nics.map((nic, i) => {
    const model = new VirtioNet({ mac: macBytes(nic.mac), transmit: (frame) => net!.transmit(i, frame) });
    const fn = new VirtioPciFunction(`virtio-net${i}`, model, { mem, msi: apicBus });
    pci.add(fn);
    return { model, port: new NicPort(model, fn.core, new FrameRingReader(net!.rings[i]!)) };
  });
  let vsock: NicPort | undefined;
  if (config.vsock) {
    if (!vsockIo) throw new VmmError('EINVAL', '--vsock configured but the monitor gave no vsock ring');
    const model = new VirtioVsock({ guestCid: config.vsock.cid, transmit: (p) => vsockIo.transmit(p), onReset: () => vsockIo.reset() });
    const fn = new VirtioPciFunction('virtio-vsock', model, { mem, msi: apicBus });
    pci.add(fn);
    vsock = new NicPort(model, fn.core, new FrameRingReader(vsockIo.ring));
  }
  assignPciResources(pci, { mmio32: PCI_MMIO32, io: PCI_IO_WINDOW });
  platform.bus.addPortDevice(pci.configPorts());
  platform.bus.addMmioDevice(pci.mmioWindow('pci-mmio32', PCI_MMIO32.base, PCI_MMIO32.size));
  platform.bus.add({ space: 'io', base: PCI_IO_WINDOW.base, size: PCI_IO_WINDOW.size }, pci.ioWindow('pci-io', PCI_IO_WINDOW.base, PCI_IO_WINDOW.size));
  return { nics: nicDevices, vsock };
}

export function runMachine(config: VmConfig, io: MachineIo): RunResult {
  const say = io.say ?? (() => {});
  const layout = memoryLayout(config.memBytes);
  const hv = Hypervisor.open({ backend: config.backend });
  const soft = hv.backend === 'soft';
  // vCPUs in parallel threads need one clock: the host's (the soft CPU's instruction count is per vCPU).
  const smp = config.cpus > 1;
  let timer: DeadlineTimer | undefined;
  let aps: SmpRun | undefined;
  const closers: (() => void)[] = [];
  try {
    // Devices write guest RAM only through `mem`, which notes every view for `hostWrites`.
    const m: Machine = hv.createMachine({ ...(smp && soft ? { tsc: 'host' } : {}), hostWrites: 'announced' });
    const hostWrites = new HostWriteLog((gpa, size) => m.hostWrote(gpa, size));
    const rams: Ram[] = layout.ram.map((block) => {
      const mem = m.allocate(block.size);
      m.map(block.gpa, mem);
      return { block, bytes: mem.bytes };
    });
    const acpi = buildAcpiTables({ vcpus: config.cpus, pci: { mem32: PCI_MMIO32, intxGsis: PCI_INTX_GSIS } });
    ramAt(rams, acpi.gpa, acpi.bytes.length, 'ACPI tables').set(acpi.bytes);
    const plan = loadLinux({
      kernel: config.kernel, initrd: config.initrd, cmdline: smp && soft ? smpSoftCmdline(config.cmdline) : config.cmdline, memory: layout.map, acpiRsdpGpa: acpi.rsdpGpa,
      entry: config.entry,
    });
    copyPlan(plan, rams);
    say(`${hv.backend} backend, ${config.memBytes / 2 ** 20} MiB, kernel ${plan.path} (${plan.entry.mode} entry)${plan.decompression ? ` (${plan.decompression.codec}, ${plan.decompression.compressedBytes} -> ${plan.decompression.decompressedBytes} bytes)` : ''}, entry ${hex(plan.entry.rip)}`);

    const share = smp ? m.share() : undefined;
    const cpu: Vcpu = m.createVcpu(0);
    configureVcpuCpuid(cpu, soft);
    cpu.setState(bootVcpuState(plan, rams[0]!.bytes));
    const time: TimeBase = soft && !smp ? new InstructionTimeBase(cpu) : new HostTimeBase();
    const tsc0 = time instanceof InstructionTimeBase ? time.tsc0 : soft ? hostTscOffset(cpu) : 0n;
    const apicBus = new ApicBus();
    const lapic = new Lapic({
      apicId: 0, bsp: true, clock: time,
      tsc: { hz: TSC_HZ, offset: () => tsc0 },
      onIpi: (req) => apicBus.ipi(req),
      onEoi: (vector) => platform.ioapic.endOfInterrupt(vector),
    });
    lapic.setVirtualWire();
    apicBus.lapics.push(lapic);
    const fabric = smp ? createSmpFabric(config.cpus, io.wakeWord) : undefined;
    if (fabric) for (let k = 1; k < config.cpus; k++) apicBus.lapics.push(new RemoteApic(fabric.directory, k, fabric.inboxes[k]!, fabric.kicks[k]!));
    const platform: Platform = new Platform({
      clock: time, serialOutput: io.serialOutput,
      ram: { belowFourGiB: layout.ram[0]!.size, aboveFourGiB: layout.ram[1]?.size ?? 0 },
      onPower: () => {},
      onIoApicMessage: (msg) => apicBus.fromIoApic(msg),
      picOutput: lapic.lint0Line,
    });
    platform.bus.add({ space: 'mmio', base: lapic.base, size: LAPIC_PAGE_SIZE }, lapic);
    platform.addTimed(lapic);
    const mem = new RegionGuestMemory(rams.map((r) => ({ gpa: r.block.gpa, bytes: r.bytes })), (gpa, length) => hostWrites.note(gpa, length));
    const packetDevices = addPciDevices(config, platform, apicBus, mem, closers, io.net, io.vsock);
    const packetPorts = packetDevices.nics.map((n) => n.port).concat(packetDevices.vsock ? [packetDevices.vsock] : []);
    const virtio = config.disks.map((d) => `blk ${d.path}${d.readOnly ? ' (ro)' : ''}`).concat(config.rng ? ['rng'] : [], (config.nics ?? []).map((n) => `net ${n.mac} (${n.backend.kind === 'tap' ? `tap ${n.backend.name}` : 'user'})`), config.vsock ? [`vsock cid ${config.vsock.cid} ${config.vsock.path}`] : []);
    if (virtio.length) say(`virtio over PCI: ${virtio.join(', ')}`);

    timer = new DeadlineTimer(cpu.stopHandle(), fabric?.kicks[0]);
    io.onPlatform?.(platform, cpu.stopHandle());
    if (fabric && share) {
      aps = startApplicationProcessors(share, fabric, soft);
      say(`${config.cpus} vCPUs, one thread each (the application processors wait for INIT/SIPI)`);
    }
    const smpSide = fabric && aps ? bootSmpSide(fabric, lapic, platform, aps.end, hostWrites) : undefined;
    const hooks: VcpuLoopHooks = {
      ...io,
      enteringGuest: () => hostWrites.flush(),
      ...(packetPorts.length === 0 && !smpSide ? {} : {
        // Frames and packets for the guest move into their devices before each run; a halted guest
        // wakes for them, and for requests and interrupts from the other vCPUs' threads.
        beforeRun: () => {
          io.beforeRun?.();
          for (const p of packetPorts) p.pump();
          smpSide?.beforeRun();
        },
        waitForInput: (ms: number) => {
          const ready = (): boolean => packetPorts.some((p) => p.hostFramesReady) || (smpSide?.ready() ?? false);
          if (io.waitForInput) io.waitForInput(ms, ready);
          else if (smpSide) smpSide.wait(ms, ready);
          else sleep(ms);
        },
      }),
    };
    const end = new VcpuLoop(cpu, platform, bootLapicSource(lapic, platform.pic), timer, time, monitorMsrs(lapic, soft), hooks).run();
    packetDevices.nics.forEach((n, i) => say(`net${i}: ${netSummary(n.model, n.port)}`));
    return { end, backend: hv.backend };
  } finally {
    aps?.stop();
    for (const close of closers) close();
    void timer?.close();
    hv.close();
  }
}

/**
 * Several soft vCPUs run on host time (their TSC is the host's monotonic clock, the same for all),
 * and a soft vCPU is slow: with interrupts off for a few ms it misses PIT ticks, and Linux's
 * clocksource watchdog, comparing the TSC with jiffies early in boot, would call the TSC unstable
 * and fall back to the ACPI PM timer (a port read per clock read). The TSC is reliable here, so
 * the kernel is told so, unless the command line says tsc= itself.
 */
export function smpSoftCmdline(cmdline: string): string {
  return /(^|\s)tsc=/.test(cmdline) ? cmdline : `${cmdline} tsc=reliable`;
}

/** The application processors' threads (ap-worker.ts): ending the machine ends them. */
interface SmpRun { end: MachineEndFlag; stop(): void }

function startApplicationProcessors(share: MachineShare, fabric: SmpFabric, tscDeadline: boolean): SmpRun {
  const end = new MachineEndFlag(fabric.end);
  const workers: Worker[] = [];
  for (let id = 1; id < fabric.vcpus; id++) {
    const w = new Worker(new URL('./ap-worker.js', import.meta.url), { workerData: { share, id, fabric, tscDeadline } satisfies ApSetup });
    // Errors reach the machine through the end flag (the boot thread reads no messages while the guest runs).
    w.on('error', (e) => end.fail(`vCPU ${id} thread: ${e.message}`));
    workers.push(w);
  }
  return {
    end,
    stop: () => {
      end.end();
      for (let id = 1; id < fabric.vcpus; id++) new VcpuKick(fabric.kicks[id]!).kick();
      for (const w of workers) void w.terminate();
    },
  };
}

/** The boot vCPU's side of the others: device requests to serve, interrupts for its LAPIC, their failures. */
function bootSmpSide(fabric: SmpFabric, lapic: Lapic, platform: Platform, end: MachineEndFlag, hostWrites: HostWriteLog) {
  const mailbox = new DeviceMailboxServer(fabric.mailbox, fabric.vcpus);
  const inbox = new InterruptInbox(fabric.inboxes[0]!);
  // The fabric made the boot vCPU's doorbell the word its host input waits on, when there is one.
  const doorbell = new Doorbell(fabric.kicks[0]!.doorbell);
  // What a device wrote for the asking vCPU is announced before it has its answer (host-writes.ts).
  const announced = (handled: boolean): boolean => {
    hostWrites.flush();
    return handled;
  };
  const devices = {
    routeIo: (req: IoRequest) => announced(platform.bus.routeIo(req)),
    routeMem: (req: MemRequest) => announced(platform.bus.routeMem(req)),
    endOfInterrupt: (vector: number) => platform.ioapic.endOfInterrupt(vector),
  };
  return {
    beforeRun: (): void => {
      const failure = end.failure;
      if (failure !== undefined) throw new VmmError('EIO', failure);
      mailbox.serve(devices);
      inbox.drain((m) => lapic.receive(m));
      publishLapic(fabric.directory, 0, lapic);
    },
    ready: (): boolean => mailbox.pending || inbox.pending || end.failure !== undefined,
    wait: (ms: number, ready: () => boolean): void => doorbell.wait(ms, ready),
  };
}



