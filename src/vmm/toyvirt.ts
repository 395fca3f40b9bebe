/**
 * toyvirt: the NVMM demonstrator monitor. It runs a 64-bit ELF kernel (smallkern) in a VM with
 * one vCPU (id 120), a console on port 123, a status port and a LAPIC, and has a second thread
 * bother the guest with a #GP, an NMI and a hardware interrupt, in turn, until the guest shuts
 * down. It is built on the monitor's pieces: core's vCPU loop runs it, the LAPIC is irq/'s (its
 * IA32_APIC_BASE through core's MSR space), event-delivery.ts hands the event thread's requests
 * to the loop, event-thread*.ts is the second thread. Unlike `tsvisor run` it has no open bus: an
 * access no device answers ends the run. The run succeeds only if the guest reported its work
 * done on the status port before it ended.
 */
import { VmmError, hex } from '../api/errors.js';
import type { BackendChoice } from '../api/types.js';
import { Hypervisor } from '../frontend/index.js';
import type { Machine, Vcpu } from '../frontend/index.js';
import { flat32State } from '../x86/boot-state.js';
import { DeviceBus } from './bus.js';
import { DeadlineTimer } from './core/deadline-timer.js';
import { HostTimeBase, InstructionTimeBase, type TimeBase } from './core/time-base.js';
import { VcpuLoop } from './core/vcpu-loop.js';
import { writeAllSync } from './host-output.js';
import { ConsoleDevice } from './devices/console.js';
import { STATUS_PORT, StatusPortDevice } from './devices/status-port.js';
import { copyElfImage, parseElf64, type ElfImage } from './elf.js';
import { EventDelivery } from './event-delivery.js';
import { EventThread } from './event-thread.js';
import { LAPIC_DEFAULT_BASE } from './irq/lapic.js';
import { TOYVIRT_VCPU_ID, toyvirtInterrupts, toyvirtLapic, toyvirtMsrs, toyvirtPlatform } from './toyvirt-platform.js';

/** Pages of zeroed RAM after the image, for the kernel's page tables, stacks and heap. */
export const FREE_PAGES_AFTER_IMAGE = 64;
export const DEFAULT_INTERVAL_MS = 3000;
const PAGE = 4096;
const CPUID_NX = 1 << 20, CPUID1_EDX_APIC = 1 << 9;

export interface ToyvirtOptions {
  backend?: BackendChoice;
  /** Milliseconds between the event thread's requests (default 3000). */
  intervalMs?: number;
  /** Where the monitor's and the guest console's text goes (default: stdout, synchronously). */
  print?: (text: string) => void;
}

/** Runs the ELF image until the guest shuts down. Bad images and failures throw VmmError. */
export async function runToyvirt(elf: Uint8Array, options: ToyvirtOptions = {}): Promise<void> {
  const intervalMs = checkInterval(options.intervalMs ?? DEFAULT_INTERVAL_MS);
  const print = options.print ?? ((text: string) => { writeAllSync(1, text); });
  const guestConsole = new ConsoleDevice(print);
  const say = (line: string): void => {
    guestConsole.endLine();
    print(`[+] ${line}\n`);
  };
  const image = parseElf64(elf);

  const hv = Hypervisor.open({ backend: options.backend ?? 'auto' });
  let events: EventThread | undefined;
  let timer: DeadlineTimer | undefined;
  try {
    say(`Hypervisor opened: ${hv.backend} backend`);
    const machine = hv.createMachine();
    say('Machine creation succeeded');
    const cpu = machine.createVcpu(TOYVIRT_VCPU_ID);
    say(`VCPU creation succeeded (id ${TOYVIRT_VCPU_ID})`);
    configureCpuid(cpu);
    say(`CPUID configured: NX removed, APIC id ${TOYVIRT_VCPU_ID}`);
    loadImage(machine, image);
    say(`ELF image loaded: ${image.segments.length} segments, entry ${hex(image.entry)}, ${FREE_PAGES_AFTER_IMAGE} free pages after it`);

    const bus = new DeviceBus();
    const status = new StatusPortDevice((code) => say(code === 0 ? 'Guest reported: work done' : `Guest reported failure code ${code}`));
    bus.addPortDevice(guestConsole);
    bus.addPortDevice(status);
    const soft = hv.backend === 'soft';
    const time: TimeBase = soft ? new InstructionTimeBase(cpu) : new HostTimeBase();
    const lapic = toyvirtLapic(time, time instanceof InstructionTimeBase ? time.tsc0 : 0n);
    bus.addMmioDevice(lapic);
    say(`Devices: console on port 123, status on port ${STATUS_PORT}, LAPIC at ${hex(lapic.base)}`);

    cpu.setState(flat32State(image.entry));
    say(`State set: 32-bit protected mode, paging off, entry ${hex(image.entry)}`);
    // The LAPIC timer's thread first: the event thread's first interval counts from the run, not from another thread's start-up.
    timer = new DeadlineTimer(cpu.stopHandle());
    events = new EventThread(cpu.stopHandle(), intervalMs);
    events.waitUntilStarted();
    say(`Event thread started: one event every ${intervalMs} ms`);

    const delivery = new EventDelivery(events, say);
    const end = new VcpuLoop(cpu, toyvirtPlatform(bus, lapic), toyvirtInterrupts(delivery, lapic), timer, time, toyvirtMsrs(lapic, say), {
      afterExit: (exit) => delivery.observe(exit),
      waitForInput: (ms) => delivery.waitForRequest(ms),
    }).run();
    if (end?.kind === 'triple-fault') say('Machine received shutdown');
    if (status.code !== 0) {
      throw new VmmError('EIO', status.code === undefined
        ? `the guest shut down before reporting its work done on port ${STATUS_PORT}`
        : `the guest reported failure code ${status.code} on port ${STATUS_PORT}`);
    }
    say('Machine execution successful');
    // The event thread and the timer stop the vCPU through its handle: end them before the vCPU goes away.
    await events.close();
    events = undefined;
    await timer.close();
    timer = undefined;
    machine.destroy();
    say('Machine destroyed');
  } finally {
    await events?.close();
    await timer?.close();
    hv.close();
  }
}

function checkInterval(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1 || ms > 3_600_000) {
    throw new VmmError('EINVAL', `interval must be a whole number of milliseconds in 1..3600000, got ${ms}`);
  }
  return ms;
}

function configureCpuid(cpu: Vcpu): void {
  // No NX, as NVMM's toyvirt does (to demonstrate CPUID masks); the kernel checks it is gone.
  cpu.configureCpuid(0x80000001, { del: { edx: CPUID_NX } });
  // The initial APIC id (leaf 1 EBX[31:24]) = the vCPU id, as on hardware; set here rather than
  // trusting each backend to derive it. EDX.APIC: the LAPIC toyvirt provides.
  cpu.configureCpuid(1, { del: { ebx: 0xff000000 }, set: { ebx: (TOYVIRT_VCPU_ID << 24) >>> 0, edx: CPUID1_EDX_APIC } });
}

/** One RAM block from the image's first page to FREE_PAGES_AFTER_IMAGE pages past its end. */
function loadImage(machine: Machine, image: ElfImage): void {
  const start = Math.floor(image.start / PAGE) * PAGE;
  const end = Math.ceil(image.end / PAGE) * PAGE + FREE_PAGES_AFTER_IMAGE * PAGE;
  if (end > LAPIC_DEFAULT_BASE) {
    throw new VmmError('EINVAL', `ELF image ${hex(image.start)}..${hex(image.end)} plus ${FREE_PAGES_AFTER_IMAGE} free pages reaches the LAPIC page`);
  }
  const ram = machine.allocate(end - start);
  copyElfImage(image, ram.bytes, start);
  machine.map(start, ram);
}
