/**
 * A soft machine shared across threads (Machine.share / Hypervisor.attachMachine): each vCPU in
 * its own worker, all on one guest RAM. Locked instructions must stay atomic while the vCPUs run
 * in parallel (guests/smp-atomics.S: no lost update in 2 x 150,000 rounds), code one vCPU writes
 * must reach another's decoded code (guests/smp-xmc.S), and the 'host' TSC is one clock for all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Hypervisor, State, VmmError, stopVcpu, type Machine, type MachineShare, type VcpuStateInput, type VcpuStopHandle } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { runToOutE9, softCpuOf } from './vm.js';
import { le32 } from '../support.js';

const GUESTS = new URL('../../../guests/build/', import.meta.url);
const RAM = 0x200000, TABLES = 0x100000, DATA = 0x80000;

function machineWith(image: Uint8Array): { hv: Hypervisor; m: Machine; ram: Uint8Array } {
  const hv = Hypervisor.open({ backend: 'soft' });
  const m = hv.createMachine({ tsc: 'host' });
  const mem = m.allocate(RAM);
  m.map(0, mem);
  mem.bytes.set(image, 0);
  return { hv, m, ram: mem.bytes };
}

function stateAt(ram: Uint8Array, rip: number, gprs: Record<string, bigint>, stack: number): VcpuStateInput {
  const st = longModeState({ ram, ramGpa: 0, tablesGpa: TABLES, mapBytes: RAM, user: false }, { entry: rip, stack });
  return { ...st, gprs: { ...st.gprs!, ...gprs } };
}

interface Done { reason: string; rbx: bigint; tscBefore: bigint; tscAfter: bigint }

/** Runs one worker per state; each runs to its first exit. Stops them all after limitMs. */
async function runAll(share: MachineShare, states: VcpuStateInput[], limitMs: number): Promise<Done[]> {
  const go = new SharedArrayBuffer(4);
  const stops: VcpuStopHandle[] = [];
  const workers = states.map((state, id) => new Worker(new URL('./shared-machine-worker.js', import.meta.url), { workerData: { share, id, state, go } }));
  const ready = workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.once('message', (msg: { type: string; stop?: VcpuStopHandle; message?: string }) => {
      if (msg.type !== 'ready') reject(new Error(`worker: ${msg.message}`));
      stops.push(msg.stop!);
      resolve();
    });
  }));
  await Promise.all(ready);
  const done = workers.map((w) => new Promise<Done>((resolve, reject) => {
    w.once('error', reject);
    w.once('message', (msg: Done & { type: string; message?: string }) => msg.type === 'done' ? resolve(msg) : reject(new Error(msg.message)));
  }));
  Atomics.store(new Int32Array(go), 0, 1);
  Atomics.notify(new Int32Array(go), 0);
  const timer = setTimeout(() => stops.forEach(stopVcpu), limitMs);
  try {
    return await Promise.all(done);
  } finally {
    clearTimeout(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

test('shared soft machine: locked instructions stay atomic with vCPUs running in parallel threads', async () => {
  const { hv, m, ram } = machineWith(readFileSync(new URL('smp-atomics.bin', GUESTS)));
  try {
    const rounds = 150_000n, vcpus = 2;
    const share = m.share();
    const states = Array.from({ length: vcpus }, (_, k) => stateAt(ram, 0, { rsi: BigInt(DATA), rdi: rounds }, 0x70000 - k * 0x1000));
    const done = await runAll(share, states, 120_000);
    for (const d of done) assert.equal(d.reason, 'halted');
    const v = new DataView(ram.buffer, DATA);
    const total = rounds * BigInt(vcpus);
    const counters: [string, bigint, bigint][] = [
      ['lock inc dword', BigInt(v.getUint32(0, true)), total],
      ['lock xadd dword', BigInt(v.getUint32(4, true)), total],
      ['lock cmpxchg qword', v.getBigUint64(8, true), total],
      ['xchg spinlock + plain inc', v.getBigUint64(16, true), total],
      ['lock cmpxchg8b', v.getBigUint64(32, true), total],
      ['lock add word', BigInt(v.getUint16(40, true)), total % 65536n],
      ['lock add byte', BigInt(v.getUint8(42)), total % 256n],
      ['lock add qword', v.getBigUint64(48, true), total],
      ['lock cmpxchg16b low', v.getBigUint64(64, true), total],
      ['lock cmpxchg16b high', v.getBigUint64(72, true), total],
    ];
    for (const [what, got, want] of counters) assert.equal(got, want, `${what}: ${got}, want ${want}`);
    assert.equal(v.getUint32(24, true), 0, 'the spinlock is free');
  } finally {
    hv.close();
  }
});

test('shared soft machine: code written by one vCPU reaches another vCPU spinning on it in another thread', async () => {
  const { hv, m, ram } = machineWith(readFileSync(new URL('smp-xmc.bin', GUESTS)));
  try {
    const share = m.share();
    const [waiter, patcher] = await runAll(share, [stateAt(ram, 0, {}, 0x70000), stateAt(ram, 0x1000, {}, 0x6f000)], 60_000);
    assert.equal(patcher!.reason, 'halted');
    assert.equal(waiter!.reason, 'halted', 'the waiter left its loop (it was stopped after 60 s if it never saw the patch)');
    assert.ok(waiter!.rbx > 10_000n, `the waiter looped ${waiter!.rbx} times`);
  } finally {
    hv.close();
  }
});

/**
 * What a vCPU decodes on a page matches the bytes it checks the page against: a byte another
 * vCPU writes after the page was checked, and puts back before the next check, must not stay
 * decoded. Linux's text_poke does that to the first byte of what it patches (INT3 in, then the
 * new byte); a vCPU that had decoded the INT3 from RAM in between ran it for good, whose #BP
 * handler (the INT3 is gone) returned to it again: a 2-CPU boot hung with that CPU's interrupts
 * off. Both vCPUs run in this thread here, so the order is exact: vCPU 0 enters the page, then
 * decodes there later in the same slice (the steps a run takes, called one by one).
 */
test('shared soft machine: a code byte another vCPU writes and puts back between two checks of the page is not run stale', () => {
  const CODE = 0x10000, SPOT = CODE + 0x12, POKE = 0x20000, UNPOKE = 0x20100;
  const { hv, m, ram } = machineWith(new Uint8Array(0));
  try {
    m.share();
    const v0 = m.createVcpu(0), v1 = m.createVcpu(1);
    ram.set([0xeb, 0x10], CODE); // JMP SPOT
    ram.set([0x90, 0xf4], SPOT); // NOP; HLT
    const movByte = (value: number): number[] => [0xc6, 0x04, 0x25, SPOT & 0xff, (SPOT >> 8) & 0xff, SPOT >> 16, 0, value, 0xf4];
    ram.set(movByte(0xcc), POKE); // MOV BYTE [SPOT], INT3; HLT
    ram.set(movByte(0x90), UNPOKE); // MOV BYTE [SPOT], NOP; HLT
    const writeOn1 = (at: number): void => {
      v1.setState(stateAt(ram, at, {}, 0x6f000));
      assert.equal(v1.run().reason, 'halted');
    };
    v0.setState(stateAt(ram, CODE, {}, 0x70000));
    const cpu0 = softCpuOf(v0);
    cpu0.beginRun();
    assert.ok(cpu0.fetchBlock(), 'vCPU 0 enters the page');
    writeOn1(POKE);
    assert.equal(ram[SPOT], 0xcc);
    cpu0.setRip(SPOT);
    assert.ok(cpu0.fetchBlock(), 'vCPU 0 decodes at SPOT before it next looks at the watch (NOP or INT3: both are right then)');
    writeOn1(UNPOKE);
    assert.equal(ram[SPOT], 0x90);
    // vCPU 0 runs SPOT again: the NOP now in RAM, then HLT (an INT3 there: #BP, no IDT, shutdown).
    v0.setState({ gprs: { rip: BigInt(SPOT) } }, State.GPRS);
    const exit = v0.run();
    assert.equal(exit.reason, 'halted', `vCPU 0 ran SPOT as ${exit.reason === 'halted' ? 'NOP' : `something else (${exit.reason})`}`);
    assert.equal(v0.getState(State.GPRS).gprs!.rip, BigInt(SPOT + 2));
  } finally {
    hv.close();
  }
});

test("a 'host' TSC machine: the TSC follows the host clock in ns, one clock for vCPUs in different threads", async () => {
  const { hv, m, ram } = machineWith(readFileSync(new URL('smp-xmc.bin', GUESTS)));
  try {
    const share = m.share();
    const cpu = m.createVcpu(5);
    const tsc = (): bigint => cpu.getState(State.MSRS).msrs!.tsc;
    const h0 = process.hrtime.bigint();
    const t0 = tsc();
    const h1 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 30));
    const h2 = process.hrtime.bigint();
    const t1 = tsc();
    const h3 = process.hrtime.bigint();
    assert.ok(t1 - t0 >= h2 - h1 && t1 - t0 <= h3 - h0, `the TSC moved ${t1 - t0} while the host clock moved ${h2 - h1}..${h3 - h0} ns`);
    // Another thread's vCPU reads the same clock: its readings fall between two of ours.
    const [patcher] = await runAll(share, [stateAt(ram, 0x1000, {}, 0x70000)], 60_000);
    const t2 = tsc();
    assert.ok(t1 <= patcher!.tscBefore && patcher!.tscBefore <= patcher!.tscAfter && patcher!.tscAfter <= t2,
      `ours ${t1}..${t2}, the worker's ${patcher!.tscBefore}..${patcher!.tscAfter}`);
    cpu.setState({ msrs: { tsc: 1_000_000n } }, State.MSRS);
    const t3 = tsc();
    assert.ok(t3 >= 1_000_000n && t3 < 1_000_000n + 1_000_000_000n, `after setting it to 1e6: ${t3}`);
  } finally {
    hv.close();
  }
});

test('shared soft machine, host writes announced: a write announced on one view reaches a vCPU of another through the code watch', () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const m = hv.createMachine({ tsc: 'host', hostWrites: 'announced' });
    const mem = m.allocate(RAM);
    m.map(0, mem);
    const ram = mem.bytes;
    ram.set([0xe8, ...le32(0x11000 - 0x10005), 0xe7, 0xe9, 0xeb, 0xf7], 0x10000); // call B; out 0xe9, eax; jmp
    ram.set([0xb8, ...le32(0), 0xc3], 0x11000); // B: mov eax, imm32; ret
    // The vCPU is on another view of the machine (as in another thread): only the watch joins them.
    const view = hv.attachMachine(m.share());
    const cpu = view.createVcpu(1);
    const soft = softCpuOf(cpu);
    soft.hotBlockRuns = 4;
    assert.equal(soft.hostWritesAnnounced, true, 'the view keeps the machine\'s hostWrites');
    cpu.setState(stateAt(ram, 0x10000, {}, 0x70000));
    const seen: number[] = [];
    for (let n = 0; n < 20; n++) {
      seen.push(runToOutE9(cpu));
      if (n % 2 === 1) {
        ram[0x11001] = n + 1;
        m.hostWrote(0x11001, 1);
      }
    }
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, n) => n - (n % 2)));
  } finally {
    hv.close();
  }
});

test('sharing: the rules (host TSC, before vCPUs, fixed map, unique vCPU ids, same backend)', () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const plain = hv.createMachine();
    plain.map(0, plain.allocate(0x10000));
    assert.throws(() => plain.share(), (e: VmmError) => e.code === 'EINVAL' && /tsc: 'host'/.test(e.message));
    assert.throws(() => hv.createMachine({ tsc: 'sometimes' as 'host' }), (e: VmmError) => e.code === 'EINVAL');
    const busy = hv.createMachine({ tsc: 'host' });
    busy.createVcpu(0);
    assert.throws(() => busy.share(), (e: VmmError) => e.code === 'EBUSY');
    const m = hv.createMachine({ tsc: 'host' });
    const mem = m.allocate(0x10000);
    m.map(0, mem);
    const share = m.share();
    assert.throws(() => m.map(0x10000, mem), (e: VmmError) => e.code === 'EBUSY' && /shared/.test(e.message));
    assert.throws(() => m.allocate(0x1000), (e: VmmError) => e.code === 'EBUSY');
    const view = hv.attachMachine(share);
    assert.deepEqual(view.mappings(), m.mappings());
    assert.equal(view.gpaToHost(0x1234)!.offset, 0x1234);
    view.gpaToHost(0)!.memory.bytes[0x10] = 0xab;
    assert.equal(mem.bytes[0x10], 0xab, 'the view and the owner see one RAM');
    m.createVcpu(1);
    assert.throws(() => view.createVcpu(1), (e: VmmError) => e.code === 'EEXIST' && /another thread/.test(e.message));
    const v2 = view.createVcpu(2);
    v2.destroy();
    m.createVcpu(2);
    assert.throws(() => view.unmap(0, 0x1000), (e: VmmError) => e.code === 'EBUSY');
    assert.throws(() => hv.attachMachine({ backend: 'kvm', id: 1, data: {} }), (e: VmmError) => e.code === 'EINVAL');
    assert.throws(() => hv.attachMachine({ backend: 'soft', id: 1, data: { nonsense: 1 } }), (e: VmmError) => e.code === 'EINVAL');
  } finally {
    hv.close();
  }
});
