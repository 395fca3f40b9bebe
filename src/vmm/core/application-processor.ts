/**
 * An application processor of a `tsvisor run` machine with --cpus > 1, in its own thread
 * (ap-worker.ts): its vCPU on the shared machine (Hypervisor.attachMachine), its own LAPIC and
 * deadline timer, and every other device reached through the boot thread's device mailbox. It
 * starts as hardware does: waiting for INIT, then a SIPI whose vector says where, in real mode;
 * an INIT later sends it back to waiting. It ends when the machine ends; a failure ends the
 * machine with its message.
 */
import { hex } from '../../api/errors.js';
import type { MachineShare } from '../../api/types.js';
import { Hypervisor } from '../../frontend/index.js';
import { resetState, segment, SEG_TYPE } from '../../x86/boot-state.js';
import { DeviceBus } from '../bus.js';
import { Lapic } from '../irq/lapic.js';
import { LAPIC_PAGE_SIZE } from '../irq/lapic-registers.js';
import { ApicBus } from './apic-bus.js';
import { publishLapic, RemoteApic } from './apic-directory.js';
import { DeadlineTimer } from './deadline-timer.js';
import { DeviceMailboxClient } from './device-mailbox.js';
import { InterruptInbox } from './interrupt-inbox.js';
import { monitorMsrs } from './msr-space.js';
import { MachineEndFlag, type SmpFabric } from './smp-fabric.js';
import { HostTimeBase, TSC_HZ } from './time-base.js';
import { Doorbell, VcpuKick } from './vcpu-kick.js';
import { apLapicSource, configureVcpuCpuid, hostTscOffset } from './vcpu-interrupts.js';
import { VcpuLoop, type LoopPlatform, type VcpuLoopHooks } from './vcpu-loop.js';

export interface ApSetup {
  share: MachineShare;
  /** vCPU id = APIC ID. */
  id: number;
  fabric: SmpFabric;
  /** The guest's TSC is the deadline clock (soft): offer TSC-deadline mode. */
  tscDeadline: boolean;
}

/** The state a SIPI with this vector starts an AP in: real mode at vector:0000, as after INIT. */
export function sipiState(vector: number): ReturnType<typeof resetState> {
  const st = resetState();
  const cs = segment({ selector: vector << 8, base: BigInt(vector << 12), type: SEG_TYPE.CODE_RX_ACCESSED });
  return { ...st, gprs: { ...st.gprs!, rip: 0n }, segs: { ...st.segs!, cs } };
}

/**
 * The wait-for-SIPI state: waits for INIT, then a SIPI (a SIPI without INIT first is ignored, as
 * by the CPU); the SIPI's vector, or undefined when the machine ended. receive: waits a while and
 * hands the LAPIC what arrived. The INIT that led here is taken, also when it came in one batch
 * with the SIPI (Linux sends them microseconds apart): left pending, the vCPU loop would take it
 * as a new INIT and send the vCPU back to wait for a SIPI that had already come (issue 10).
 */
export function awaitSipi(lapic: Lapic, ended: () => boolean, receive: () => void): number | undefined {
  for (;;) {
    // An INIT after the SIPI in the same batch cleared the SIPI (acceptInit): the wait goes on.
    lapic.takeInit();
    const vector = lapic.takeSipi();
    if (vector !== undefined) return vector;
    if (ended()) return undefined;
    receive();
  }
}

export function runApplicationProcessor(setup: ApSetup): void {
  const { share, id, fabric } = setup;
  const end = new MachineEndFlag(fabric.end);
  const bspKick = new VcpuKick(fabric.kicks[0]!);
  const hv = Hypervisor.open({ backend: share.backend });
  let timer: DeadlineTimer | undefined;
  try {
    const m = hv.attachMachine(share);
    const cpu = m.createVcpu(id);
    configureVcpuCpuid(cpu, setup.tscDeadline);
    const time = new HostTimeBase();
    const tsc0 = hostTscOffset(cpu);
    const mailbox = new DeviceMailboxClient(fabric.mailbox, id, () => bspKick.kick(), () => end.ended);
    const apicBus = new ApicBus();
    const lapic = new Lapic({
      apicId: id, bsp: false, clock: time, tsc: { hz: TSC_HZ, offset: () => tsc0 },
      onIpi: (req) => apicBus.ipi(req),
      onEoi: (vector) => mailbox.endOfInterrupt(vector),
    });
    for (let k = 0; k < fabric.vcpus; k++) {
      apicBus.lapics.push(k === id ? lapic : new RemoteApic(fabric.directory, k, fabric.inboxes[k]!, fabric.kicks[k]!));
    }
    const local = new DeviceBus();
    local.add({ space: 'mmio', base: lapic.base, size: LAPIC_PAGE_SIZE }, lapic);
    const platform: LoopPlatform = {
      bus: { routeIo: (req) => mailbox.io(req), routeMem: (req) => local.routeMem(req) || mailbox.mem(req) },
      poll: (now) => lapic.poll(now),
      get power() { return end.ended ? 'poweroff' : undefined; },
    };
    timer = new DeadlineTimer(cpu.stopHandle(), fabric.kicks[id]!);
    const inbox = new InterruptInbox(fabric.inboxes[id]!);
    const doorbell = new Doorbell(fabric.kicks[id]!.doorbell);
    const hooks: VcpuLoopHooks = {
      beforeRun: () => {
        inbox.drain((msg) => lapic.receive(msg));
        publishLapic(fabric.directory, id, lapic);
      },
      waitForInput: (ms) => doorbell.wait(ms, () => inbox.pending || end.ended),
    };
    hooks.beforeRun!();
    for (;;) {
      const vector = awaitSipi(lapic, () => end.ended, () => {
        doorbell.wait(1000, () => inbox.pending || end.ended);
        hooks.beforeRun!();
      });
      if (vector === undefined) return;
      cpu.setState(sipiState(vector));
      const loop = new VcpuLoop(cpu, platform, apLapicSource(lapic), timer, time, monitorMsrs(lapic, setup.tscDeadline), hooks);
      const result = loop.run();
      if (loop.initReceived) continue;
      if (result?.kind === 'triple-fault') end.fail(`vCPU ${id}: triple fault (shutdown) at rip ${hex(result.rip)}`);
      return;
    }
  } catch (e) {
    if (!end.ended) end.fail(`vCPU ${id}: ${(e as Error).message}`);
  } finally {
    bspKick.kick();
    void timer?.close();
    hv.close();
  }
}
