/**
 * P2: VM lifecycle. Create a machine, allocate and map a read-only 4 KiB ROM with guests/calc
 * at 0xFFFFF000, create vCPU 0, set RAX/RBX, run from the reset vector to HLT, read RBX, destroy
 * the machine: through the tsvisor API (KVM backend, including the frontend's checks and its
 * cross-process machine registry) vs bench/c/p2-lifecycle.c making the same KVM calls, alternated
 * round by round. Per lifecycle: this thread's CPU time and wall clock, best round of ROUNDS (15).
 * Goal: ratio <= 1.2 and under 0.5 ms.
 * A third figure runs the same lifecycle on the KVM Backend object directly (no frontend: no
 * argument checks, no machine registry), to show what each layer costs; stderr also gives the
 * C reference's own syscalls issued from Node through koffi (bench/p2-node-floor.ts): the part
 * of the gap that is the kernel's price for a Node process, not tsvisor's code.
 *
 * A background machine with one vCPU stays alive through the whole run (P2_BACKGROUND=0 leaves
 * it out). Without it, a lifecycle whose VM is the only one on the host makes the kernel patch
 * its code twice (static keys for "a vCPU without in-kernel APIC exists", turned on at
 * KVM_CREATE_VCPU and off at destroy: ~0.2 ms of text patching and IPIs), and whether that
 * happens depends on whatever else runs KVM at that moment, so either side could pay it in any
 * round. With it, both sides measure the steady state of a host that runs VMs.
 */
import { Hypervisor, State } from '../src/index.js';
import { openKvmBackend } from '../src/backends/kvm/index.js';
import { GUEST_BUILD, guestBinary, kvmUnavailableReason } from '../test/support.js';
import { join } from 'node:path';
import { best, buildReference, median, now, pairedRatio, printFigure, runReference } from './p1-p2-reference.js';
import { nodeFloorLifecycle } from './p2-node-floor.js';

const ITER = Number(process.env.P2_ITER ?? 100);
const ROUNDS = Number(process.env.P2_ROUNDS ?? 15);

const why = kvmUnavailableReason();
if (why) {
  console.error(`p2-lifecycle: skipped: ${why}`);
  process.exit(0);
}

const reference = buildReference('p2-lifecycle');
const calc = guestBinary('calc');
const hv = Hypervisor.open({ backend: 'kvm' });
if (process.env.P2_BACKGROUND !== '0') hv.createMachine().createVcpu(0);

function lifecycle(a: bigint, b: bigint): bigint {
  const m = hv.createMachine();
  const rom = m.allocate(4096);
  rom.bytes.set(calc);
  m.map(0xfffff000, rom, { prot: 'rx' });
  const cpu = m.createVcpu(0);
  cpu.setState({ gprs: { rax: a, rbx: b, rdx: 0n } });
  const e = cpu.run();
  if (e.reason !== 'halted') throw new Error(`p2: unexpected exit ${e.reason}`);
  const sum = cpu.getState(State.GPRS).gprs!.rbx;
  m.destroy();
  return sum;
}

const backend = openKvmBackend();

function backendLifecycle(a: bigint, b: bigint): bigint {
  const m = backend.createMachine();
  const rom = backend.allocate(4096);
  rom.bytes.set(calc);
  m.map(0xfffff000, rom, 0, 4096, 'rx');
  const cpu = m.createVcpu(0);
  cpu.setState({ gprs: { rax: a, rbx: b, rdx: 0n } }, State.GPRS);
  const e = cpu.run();
  if (e.reason !== 'halted') throw new Error(`p2: unexpected exit ${e.reason}`);
  const sum = cpu.getState(State.GPRS).gprs!.rbx;
  m.destroy();
  backend.release(rom);
  return sum;
}

const floorLifecycle = nodeFloorLifecycle(calc);

function round(fn: (a: bigint, b: bigint) => bigint): { wall: number; cpu: number } {
  const t0 = now();
  for (let i = 0; i < ITER; i++) if (fn(3n, 5n) !== 8n) throw new Error('p2: calc gave a wrong sum');
  const t1 = now();
  return { wall: (t1.wall - t0.wall) / ITER, cpu: (t1.cpu - t0.cpu) / ITER };
}

round(lifecycle); // warm-up
round(backendLifecycle);
round(floorLifecycle);
const ts: { wall: number; cpu: number }[] = [];
const be: { wall: number; cpu: number }[] = [];
const floor: { wall: number; cpu: number }[] = [];
const ref: { wall: number; cpu: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  ref.push(...runReference(reference, [join(GUEST_BUILD, 'calc.bin'), String(ITER), '1']).map((x) => ({ wall: x.wall * 1000, cpu: x.cpu * 1000 })));
  ts.push(round(lifecycle));
  be.push(round(backendLifecycle));
  floor.push(round(floorLifecycle));
}
hv.close();

const ms = (xs: number[]): string => xs.map((x) => (x / 1e6).toFixed(3)).join(' ');
console.error(`p2: ${ITER} lifecycles x ${ROUNDS} rounds; ms cpu tsvisor [${ms(ts.map((x) => x.cpu))}] C [${ms(ref.map((x) => x.cpu))}]`);
console.error(`p2: ms cpu KVM backend only [${ms(be.map((x) => x.cpu))}] C's syscalls from Node via koffi [${ms(floor.map((x) => x.cpu))}]`);
console.error(`p2: medians cpu ${(median(ts.map((x) => x.cpu)) / 1e6).toFixed(3)} vs ${(median(ref.map((x) => x.cpu)) / 1e6).toFixed(3)} ms; ` +
  `best cpu: API ${(best(ts.map((x) => x.cpu)) / 1e6).toFixed(3)}, backend ${(best(be.map((x) => x.cpu)) / 1e6).toFixed(3)}, ` +
  `Node floor ${(best(floor.map((x) => x.cpu)) / 1e6).toFixed(3)}, C ${(best(ref.map((x) => x.cpu)) / 1e6).toFixed(3)} ms` +
  (process.env.P2_BACKGROUND === '0' ? ' (no background machine)' : ' (background machine held)'));
const cpuOf = (xs: { cpu: number }[]): number[] => xs.map((x) => x.cpu);
console.error(`p2: median of per-round cpu ratios to C: API ${pairedRatio(cpuOf(ts), cpuOf(ref)).toFixed(3)}, ` +
  `backend ${pairedRatio(cpuOf(be), cpuOf(ref)).toFixed(3)}, Node floor ${pairedRatio(cpuOf(floor), cpuOf(ref)).toFixed(3)}; ` +
  `API to backend ${pairedRatio(cpuOf(ts), cpuOf(be)).toFixed(3)}, backend to Node floor ${pairedRatio(cpuOf(be), cpuOf(floor)).toFixed(3)}`);
printFigure('P2 VM lifecycle (CPU time, best round)', best(ts.map((x) => x.cpu)) / 1e6, best(ref.map((x) => x.cpu)) / 1e6, 'ms');
printFigure('P2 VM lifecycle (wall clock, best round)', best(ts.map((x) => x.wall)) / 1e6, best(ref.map((x) => x.wall)) / 1e6, 'ms');
printFigure('P2 VM lifecycle, KVM backend layer only (CPU time, best round)', best(be.map((x) => x.cpu)) / 1e6, best(ref.map((x) => x.cpu)) / 1e6, 'ms');
