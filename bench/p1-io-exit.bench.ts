/**
 * P1: IO exit round trip. The same guest (guests/kvm-outloop: OUT to port 0x10 forever, 64-bit
 * long mode, CPL3) driven through the tsvisor API (cpu.run() returning each io exit) and by the
 * C program bench/c/p1-io-exit.c doing the same KVM_RUN loop, alternated round by round in the
 * same run. Per exit: this thread's CPU time (robust against the other load of a shared
 * machine; the guest's own time is accounted to the vCPU thread too) and wall-clock time.
 * Each figure is the best round of ROUNDS (15: a round is ~0.1 s, and on a shared machine one
 * round in several is slowed by other load on either side); goal: ratio <= 1.05.
 */
import { Hypervisor, type VmExit } from '../src/index.js';
import { longState, LOAD, RAM_SIZE } from '../test/kvm/kvm-guest.js';
import { GUEST_BUILD, guestBinary, kvmUnavailableReason } from '../test/support.js';
import { join } from 'node:path';
import { best, buildReference, median, now, pairedRatio, printFigure, runReference } from './p1-p2-reference.js';

const EXITS = Number(process.env.P1_EXITS ?? 3000);
const ROUNDS = Number(process.env.P1_ROUNDS ?? 15);

const why = kvmUnavailableReason();
if (why) {
  console.error(`p1-io-exit: skipped: ${why}`);
  process.exit(0);
}

const reference = buildReference('p1-io-exit');
const hv = Hypervisor.open({ backend: 'kvm' });
const machine = hv.createMachine();
const ram = machine.allocate(RAM_SIZE);
machine.map(0, ram);
ram.bytes.set(guestBinary('kvm-outloop'), LOAD);
const cpu = machine.createVcpu(0);
cpu.setState(longState(ram, 3, LOAD));

function expectOut(e: VmExit): void {
  if (e.reason !== 'io' || e.port !== 0x10 || e.in) throw new Error(`p1: unexpected exit ${e.reason}`);
}

function tsvisorRound(): { wall: number; cpu: number } {
  const t0 = now();
  for (let i = 0; i < EXITS; i++) expectOut(cpu.run());
  const t1 = now();
  return { wall: (t1.wall - t0.wall) / EXITS, cpu: (t1.cpu - t0.cpu) / EXITS };
}

tsvisorRound(); // warm-up (JIT, page faults)
const ts: { wall: number; cpu: number }[] = [];
const ref: { wall: number; cpu: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  ref.push(...runReference(reference, [join(GUEST_BUILD, 'kvm-outloop.bin'), String(EXITS), '1']));
  ts.push(tsvisorRound());
}
machine.destroy();
hv.close();

const ms = (xs: number[]): string => xs.map((x) => (x / 1000).toFixed(1)).join(' ');
console.error(`p1: ${EXITS} exits x ${ROUNDS} rounds; us/exit cpu tsvisor [${ms(ts.map((x) => x.cpu))}] C [${ms(ref.map((x) => x.cpu))}]`);
console.error(`p1: medians cpu ${(median(ts.map((x) => x.cpu)) / 1000).toFixed(2)} vs ${(median(ref.map((x) => x.cpu)) / 1000).toFixed(2)} us; ` +
  `median of per-round ratios: cpu ${pairedRatio(ts.map((x) => x.cpu), ref.map((x) => x.cpu)).toFixed(3)}, wall ${pairedRatio(ts.map((x) => x.wall), ref.map((x) => x.wall)).toFixed(3)}`);
printFigure('P1 IO exit round trip (CPU time, best round)', best(ts.map((x) => x.cpu)) / 1000, best(ref.map((x) => x.cpu)) / 1000, 'us');
printFigure('P1 IO exit round trip (wall clock, best round)', best(ts.map((x) => x.wall)) / 1000, best(ref.map((x) => x.wall)) / 1000, 'us');
