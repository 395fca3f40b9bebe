/**
 * stop() from another thread at random moments relative to the vCPU thread's run(), on every
 * backend usable here: before it, while it enters (kvm: thread setup, the flag check, event
 * injection, KVM_RUN's entry; soft: the flag check and the first slice) and while the guest spins
 * at CPL3. Every stop must end exactly the run() it was aimed at, none may be lost (a lost one is
 * resent by the worker after 2 s and counted, so the test fails instead of hanging).
 * Seeded; the seed is printed on failure (TSVISOR_STOP_SEED reruns one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Hypervisor, State, type BackendName, type Vcpu } from '../../src/index.js';
import { backendSkip, BACKEND_NAMES } from '../frontend/real-backends.js';
import { guestBinary } from '../support.js';
import type { StressOrder } from '../kvm/stop-stress-worker.js';
import { startReadyWorker } from '../kvm/ready-worker.js';
import { Rng } from '../exec/rng.js';
import { RAM_SIZE, setupState } from './harness.js';

/** Rounds in the suite; TSVISOR_STOP_ROUNDS runs more (a long stress run). */
const ROUNDS = Number(process.env.TSVISOR_STOP_ROUNDS ?? 200);
const LOAD = 0x10000;

/** A vCPU at CPL3 in `jmp $` (guests/kvm-spin.S) on backend. */
function spinningVcpu(backend: BackendName): { cpu: Vcpu; done: () => void } {
  const hv = Hypervisor.open({ backend });
  const m = hv.createMachine();
  const ram = m.allocate(RAM_SIZE);
  m.map(0, ram);
  ram.bytes.set(guestBinary('kvm-spin'), LOAD);
  const cpu = m.createVcpu(0);
  setupState(cpu, ram.bytes, { name: 'kvm-spin', start: 'long-user', load: LOAD, compare: [] });
  return { cpu, done: () => hv.close() };
}

for (const backend of BACKEND_NAMES) {
  const skip = backendSkip(backend, 'stop stress');

  test(`${backend}: stop() from a worker at random moments: ${ROUNDS} runs, each ended by its stop, none lost`, { skip }, async () => {
    const seed = Number(process.env.TSVISOR_STOP_SEED ?? Date.now() % 2 ** 31);
    const gen = new Rng(seed);
    const rand = (): number => gen.next();
    const g = spinningVcpu(backend);
    const worker = await startReadyWorker(new URL('../kvm/stop-stress-worker.js', import.meta.url));
    let lost = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const done = new SharedArrayBuffer(4), go = new SharedArrayBuffer(8);
        // Half the stops aimed at run()'s first microseconds (thread setup, flag check, event
        // injection, KVM_RUN's entry), the rest at the guest's loop or before run() at all.
        const r = rand();
        const [how, amount] = r < 0.5 ? [1, Math.floor(rand() * 40)] : r < 0.6 ? [0, 0] : r < 0.8 ? [1, Math.floor(rand() * 400)] : [2, Math.floor(rand() * 2000)];
        const order: StressOrder = { handle: g.cpu.stopHandle(), how: how as 0 | 1 | 2, amount, done, go };
        worker.postMessage(order);
        // Sometimes a little host work first, so that some stops land before run() is called.
        const spinUs = rand() < 0.3 ? Math.floor(rand() * 300) : 0;
        const end = performance.now() + spinUs / 1000;
        while (performance.now() < end) { /* spin */ }
        // The worker is ready to time its stop from the moment run() is called.
        const goFlags = new Int32Array(go);
        const armedBy = performance.now() + 5_000;
        while (Atomics.load(goFlags, 0) === 0 && performance.now() < armedBy) { /* spin */ }
        Atomics.store(goFlags, 1, 1);
        const e = g.cpu.run();
        Atomics.store(new Int32Array(done), 0, 1);
        Atomics.notify(new Int32Array(done), 0);
        const [resent] = (await once(worker, 'message')) as [number];
        lost += resent;
        assert.equal(e.reason, 'stopped', `seed ${seed} round ${round}: ${e.reason}`);
        assert.equal(g.cpu.getState(State.GPRS).gprs!.rip, BigInt(LOAD), `seed ${seed} round ${round}: the guest is in its loop`);
      }
      assert.equal(lost, 0, `seed ${seed}: ${lost} stop(s) went unanswered for 2 s and had to be resent`);
    } finally {
      await worker.terminate();
      g.done();
    }
  });
}
