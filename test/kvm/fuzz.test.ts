/**
 * Random guest code under KVM (seeded; the seed is printed on failure): at CPL0 and CPL3 in long
 * mode, every exit is answered the way a monitor would, and nothing but VmmError may escape the
 * backend; a watchdog thread stops guests that spin without exiting.
 * KVM_FUZZ_SEED / KVM_FUZZ_PROGRAMS change the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReadyWorker } from './ready-worker.js';
import { once } from 'node:events';
import { VmmError } from '../../src/index.js';
import type { Vcpu, VmExit } from '../../src/index.js';
import { assertExitState, skipUnlessKvm } from '../support.js';
import { LOAD, kvm, longState, RAM_SIZE } from './kvm-guest.js';
import { Rng } from '../exec/rng.js';

const skip = skipUnlessKvm();
const SEED = Number(process.env['KVM_FUZZ_SEED'] ?? 20261121);
const PROGRAMS = Number(process.env['KVM_FUZZ_PROGRAMS'] ?? 24);
const MAX_EXITS = 40;

/** What a monitor does with each exit; returns false when the guest is finished. */
function answer(e: VmExit, cpu: Vcpu): boolean {
  switch (e.reason) {
    case 'io': e.data.fill(0x5a); return true;
    case 'memory': e.data?.fill(0xa5); return true;
    case 'rdmsr': cpu.setState({ gprs: { rax: 0n, rdx: 0n, rip: BigInt(e.npc) } }); return true;
    case 'wrmsr': cpu.setState({ gprs: { rip: BigInt(e.npc) } }); return true;
    case 'halted': case 'int-ready': case 'nmi-ready': case 'tpr-changed': return true;
    default: return false; // shutdown, invalid, stopped, cpuid/monitor/mwait (not produced by KVM)
  }
}

test(`random guest code at CPL0 and CPL3 never escapes as anything but VmmError (seed ${SEED})`, { skip }, async () => {
  const rng = new Rng(SEED);
  const rand = (): number => rng.next();
  const watchdog = await startReadyWorker(new URL('./watchdog-worker.js', import.meta.url));
  const reasons = new Map<string, number>();
  try {
    for (let p = 0; p < PROGRAMS; p++) {
      const cpl = rand() < 0.5 ? 0 : 3;
      const code = Uint8Array.from({ length: 256 }, () => Math.floor(rand() * 256));
      const machine = kvm().createMachine();
      try {
        const ram = machine.allocate(RAM_SIZE);
        machine.map(0, ram);
        ram.bytes.set(code, LOAD);
        const cpu = machine.createVcpu(0);
        cpu.setState(longState(ram, cpl, LOAD));
        const done = new SharedArrayBuffer(4);
        watchdog.postMessage({ handle: cpu.stopHandle(), ms: 300, done });
        const answered = once(watchdog, 'message');
        try {
          for (let n = 0; n < MAX_EXITS; n++) {
            const e = cpu.run();
            assertExitState(e, `seed ${SEED} program ${p}: `);
            reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
            if (!answer(e, cpu)) break;
          }
        } catch (err) {
          if (!(err instanceof VmmError)) {
            assert.fail(`seed ${SEED} program ${p} (CPL${cpl}, ${Buffer.from(code).toString('hex')}): ${String(err)}`);
          }
        } finally {
          Atomics.store(new Int32Array(done), 0, 1);
          Atomics.notify(new Int32Array(done), 0);
          await answered;
        }
      } finally {
        machine.destroy();
      }
    }
  } finally {
    await watchdog.terminate();
  }
  console.log(`# kvm fuzz: ${PROGRAMS} programs, exits: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}`);
});
