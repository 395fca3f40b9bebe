/**
 * toyvirt: the NVMM demonstrator monitor. It runs a 64-bit ELF kernel (smallkern) in a VM with
 * one vCPU (id 120), a console on port 123 and a LAPIC page, answers IA32_APIC_BASE, and has a
 * second thread bother the guest with a #GP, an NMI and a hardware interrupt, in turn, until the
 * guest shuts down. The exit loop is one switch with one case per exit reason.
 */
import { writeSync } from 'node:fs';
import { VmmError, hex } from '../api/errors.js';
import { State } from '../api/types.js';
import type { BackendChoice, ExitState, MemoryExit, RdmsrExit, VcpuEvent, VmExit, WrmsrExit } from '../api/types.js';
import { Hypervisor } from '../frontend/index.js';
import type { Machine, Vcpu } from '../frontend/index.js';
import { flat32State } from '../x86/boot-state.js';
import { DeviceBus } from './bus.js';
import { ConsoleDevice } from './devices/console.js';
import { LAPIC_BASE, LapicDevice, MSR_IA32_APIC_BASE } from './devices/lapic.js';
import { copyElfImage, parseElf64, type ElfImage } from './elf.js';
import { CR8_BLOCKS_INTERRUPTS, type EventKind } from './event-requests.js';
import { EventThread } from './event-thread.js';

export const TOYVIRT_VCPU_ID = 120;
/** Pages of zeroed RAM after the image, for the kernel's page tables, stacks and heap. */
export const FREE_PAGES_AFTER_IMAGE = 64;
export const DEFAULT_INTERVAL_MS = 3000;
const PAGE = 4096;
const CPUID_NX = 1 << 20;
const VECTOR_GP = 13, VECTOR_TOYVIRT_INTERRUPT = 200;

export interface ToyvirtOptions {
  backend?: BackendChoice;
  /** Milliseconds between the event thread's requests (default 3000). */
  intervalMs?: number;
  /** Where the monitor's and the guest console's text goes (default: stdout, synchronously). */
  print?: (text: string) => void;
}

const EVENTS: Record<EventKind, { event: VcpuEvent; says: string }> = {
  gp: { event: { type: 'exception', vector: VECTOR_GP, errorCode: 0 }, says: 'Inject #GP event' },
  nmi: { event: { type: 'nmi' }, says: 'Inject NMI event' },
  interrupt: { event: { type: 'interrupt', vector: VECTOR_TOYVIRT_INTERRUPT }, says: 'Inject hardware interrupt event' },
};

/** Runs the ELF image until the guest shuts down. Bad images and failures throw VmmError. */
export async function runToyvirt(elf: Uint8Array, options: ToyvirtOptions = {}): Promise<void> {
  const intervalMs = checkInterval(options.intervalMs ?? DEFAULT_INTERVAL_MS);
  const print = options.print ?? ((text: string) => { writeSync(1, text); });
  const say = (line: string): void => print(`[+] ${line}\n`);
  const image = parseElf64(elf);

  const hv = Hypervisor.open({ backend: options.backend ?? 'auto' });
  let events: EventThread | undefined;
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
    const lapic = new LapicDevice(TOYVIRT_VCPU_ID);
    bus.addPortDevice(new ConsoleDevice(print));
    bus.addMmioDevice(lapic);
    say(`Devices: console on port 123, LAPIC at ${hex(lapic.base)}`);

    cpu.setState(flat32State(image.entry));
    say(`State set: 32-bit protected mode, paging off, entry ${hex(image.entry)}`);
    events = new EventThread(cpu.stopHandle(), intervalMs);
    say(`Event thread started: one event every ${intervalMs} ms`);

    new ExitLoop(cpu, bus, lapic, events, say).run();
    say('Machine execution successful');
    // The event thread stops the vCPU through its handle: end it before the vCPU goes away.
    await events.close();
    events = undefined;
    machine.destroy();
    say('Machine destroyed');
  } finally {
    await events?.close();
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
  // trusting each backend to derive it.
  cpu.configureCpuid(1, { del: { ebx: 0xff000000 }, set: { ebx: (TOYVIRT_VCPU_ID << 24) >>> 0 } });
}

/** One RAM block from the image's first page to FREE_PAGES_AFTER_IMAGE pages past its end. */
function loadImage(machine: Machine, image: ElfImage): void {
  const start = Math.floor(image.start / PAGE) * PAGE;
  const end = Math.ceil(image.end / PAGE) * PAGE + FREE_PAGES_AFTER_IMAGE * PAGE;
  if (end > LAPIC_BASE) {
    throw new VmmError('EINVAL', `ELF image ${hex(image.start)}..${hex(image.end)} plus ${FREE_PAGES_AFTER_IMAGE} free pages reaches the LAPIC page`);
  }
  const ram = machine.allocate(end - start);
  copyElfImage(image, ram.bytes, start);
  machine.map(start, ram);
}

class ExitLoop {
  constructor(
    private readonly cpu: Vcpu,
    private readonly bus: DeviceBus,
    private readonly lapic: LapicDevice,
    private readonly events: EventThread,
    private readonly say: (line: string) => void,
  ) {}

  /** Runs until the guest shuts down. */
  run(): void {
    for (;;) {
      const exit = this.cpu.run();
      this.events.noteCr8(exit.exitState.cr8);
      if (!this.handle(exit)) return;
    }
  }

  /** Handles one exit; false when the machine is done. */
  private handle(exit: VmExit): boolean {
    switch (exit.reason) {
      case 'io':
        this.cpu.assistIo(exit, (req) => this.bus.dispatchIo(req));
        return true;
      case 'memory':
        this.emulateMmio(exit);
        return true;
      case 'rdmsr':
        this.rdmsr(exit);
        return true;
      case 'wrmsr':
        this.refuseMsr(exit);
        return true;
      case 'stopped':
        this.deliverOne(exit.exitState);
        return true;
      case 'halted':
        // Only an event can wake the guest: sleep until the event thread has one to deliver.
        if (exit.exitState.evtPending || !this.events.waiting()) this.events.waitForNextPost();
        this.deliverOne(exit.exitState);
        return true;
      case 'int-ready':
      case 'nmi-ready':
        // toyvirt asks for no window exits: the backend holds an injected event until the guest
        // can take it (API contract). A backend that reports the window anyway is said and ignored.
        this.say('Machine ready to INT/NMI');
        return true;
      case 'shutdown':
        this.say('Machine received shutdown');
        return false;
      case 'invalid':
        throw new VmmError('EIO', `invalid exit at rip ${hex(this.rip())}: ${exit.detail}`);
      case 'cpuid':
      case 'tpr-changed':
      case 'monitor':
      case 'mwait':
        throw new VmmError('ENOTSUP', `unexpected ${exit.reason} exit at rip ${hex(this.rip())} (toyvirt did not ask for it)`);
    }
  }

  /**
   * One request per wake-up, so a guest that halts between events sees them one by one; none
   * while the backend still holds an earlier event (the request waits for a later wake-up).
   */
  private deliverOne({ evtPending, cr8 }: ExitState): void {
    if (evtPending) return;
    const kind = this.events.take();
    if (kind === undefined) return;
    if (kind === 'interrupt' && cr8 >= BigInt(CR8_BLOCKS_INTERRUPTS)) {
      this.say(`Hardware interrupt not injected: the guest raised CR8 to ${cr8}`);
      return;
    }
    this.say(EVENTS[kind].says);
    this.cpu.inject(EVENTS[kind].event);
  }

  /**
   * The assist emulates the instruction and calls the bus for its device access. An exit the
   * instruction does not explain (e.g. the CPU itself reading an IDT or GDT outside RAM) would
   * otherwise be skipped silently: it ends the run instead.
   */
  private emulateMmio(exit: MemoryExit): void {
    let accessed = false;
    this.cpu.assistMem(exit, (req) => {
      accessed = true;
      this.bus.dispatchMem(req);
    });
    if (!accessed) {
      throw new VmmError('EFAULT', `guest-physical ${hex(exit.gpa)} (${exit.prot}) is outside RAM and no device; the instruction at rip ${hex(this.rip())} does not access it`);
    }
  }

  private rdmsr(exit: RdmsrExit): void {
    if (exit.msr !== MSR_IA32_APIC_BASE) {
      this.refuseMsr(exit);
      return;
    }
    const value = this.lapic.apicBaseMsr;
    this.cpu.setState({
      gprs: { rax: value & 0xffffffffn, rdx: value >> 32n, rip: BigInt(exit.npc) },
    }, State.GPRS);
  }

  /** What hardware does for an MSR it does not have: #GP(0) at the instruction. */
  private refuseMsr(exit: RdmsrExit | WrmsrExit): void {
    this.say(`${exit.reason === 'rdmsr' ? 'RDMSR' : 'WRMSR'} of MSR ${hex(exit.msr)} not supported: injecting #GP`);
    this.cpu.inject({ type: 'exception', vector: VECTOR_GP, errorCode: 0 });
  }

  private rip(): bigint {
    return this.cpu.getState(State.GPRS).gprs?.rip ?? 0n;
  }
}
