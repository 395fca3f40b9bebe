/**
 * stop() acts within a bounded amount of guest work, however that work is made of. A REP string
 * instruction retires once for all its iterations, so a run loop that polled the stop flag every
 * N instructions let a `rep stosb` loop run N chunks of iterations (seconds) before stopping.
 *
 * A worker watches guest RAM (shared), records how far the guest had got, calls stopVcpu, and the
 * test measures how much more the guest did before run() returned 'stopped'. What the guest does
 * while the worker thread is descheduled between its look and its stop counts too, so on a busy
 * machine a trial can overstate the latency: the best of a few trials is taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { State } from '../../src/index.js';
import { longMode, RAM_SIZE, softVm } from './vm.js';
import { longModeState, realModeState } from '../../src/x86/boot-state.js';
import { openSoftBackend } from '../../src/backends/soft/index.js';
import { setBulkStrings } from '../../src/x86/exec/ops-string.js';
import { REP_SLICE } from '../../src/backends/soft/run.js';
import type { SoftVcpu } from '../../src/backends/soft/vcpu.js';

/** The bound the issue asks for: stop acts within 10^5 instructions or string iterations. */
const MAX_WORK = 100_000;
const COUNTER = 0x9000, BUF = 0x100000, PASS = 0x10000;

// Waits until the guest has done a few passes, notes the pass number and copies the buffer, stops
// the vCPU, then counts how far the current pass's `rep stosb` had got (bytes already holding the
// pass number): the count comes after the stop, so its time is not charged to the stop.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { ram, handle, index, counter, buf, pass, bytewise } = workerData;
const words = new Int32Array(ram, 0, ram.byteLength >> 2);
const bytes = new Uint8Array(ram);
const nap = new Int32Array(new SharedArrayBuffer(4));
import(index).then(({ stopVcpu }) => {
  while ((Atomics.load(words, counter >> 2) & 0xffff) < 3) Atomics.wait(nap, 0, 0, 1);
  const c1 = Atomics.load(words, counter >> 2) & 0xffff;
  const seen = bytewise ? bytes.slice(buf, buf + pass) : undefined;
  stopVcpu(handle);
  let p1 = 0;
  if (seen) for (let k = 0; k < pass; k++) if (seen[k] === (c1 & 0xff)) p1++;
  parentPort.postMessage({ c1, p1 });
});
`;

async function stopDuring(cpu: import('../../src/index.js').Vcpu, ram: Uint8Array, bytewise: boolean): Promise<{ c1: number; p1: number }> {
  const index = new URL('../../src/index.js', import.meta.url).href;
  const w = new Worker(WORKER, {
    eval: true,
    workerData: { ram: ram.buffer, handle: cpu.stopHandle(), index, counter: COUNTER, buf: BUF, pass: PASS, bytewise },
  });
  const msg = once(w, 'message');
  const exited = once(w, 'exit');
  const exit = cpu.run();
  assert.equal(exit.reason, 'stopped');
  const [got] = await msg as [{ c1: number; p1: number }];
  await exited;
  return got;
}

const TRIALS = 5;

/** Runs trial() until it returns a value within limit, at most TRIALS times; returns every value seen. */
async function bestOf(limit: number, trial: () => Promise<number>): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < TRIALS && !(seen.length && Math.min(...seen) <= limit)) seen.push(await trial());
  return seen;
}

// xor ebx,ebx; 1: inc ebx; mov [COUNTER],ebx; mov eax,ebx; mov edi,BUF; mov ecx,PASS; rep stosb; jmp 1b
const STOSB_LOOP = [0x31, 0xdb, 0xff, 0xc3, 0x89, 0x1c, 0x25, 0x00, 0x90, 0x00, 0x00, 0x89, 0xd8,
  0xbf, 0x00, 0x00, 0x10, 0x00, 0xb9, 0x00, 0x00, 0x01, 0x00, 0xf3, 0xaa, 0xeb, 0xe7];
const ENTRY = 0x1000;

// Measured across threads, the figure includes the time the stop takes to reach the vCPU, in guest
// work. REP STOSB over RAM fills whole pages at once (ops-string.ts), tens of millions of bytes per
// millisecond, so that time alone is worth more than 10^5 iterations: the cross-thread trial runs
// the element-at-a-time path, and the page-run path's bound is checked without threads below.
test('soft: stop() acts within 10^5 string iterations of a long-mode rep stosb loop over 64 KiB', async () => {
  setBulkStrings(false);
  try {
    const seen = await bestOf(MAX_WORK, stosbTrial);
    assert.ok(Math.min(...seen) <= MAX_WORK, `stop took ${seen.join(', ')} iterations in ${seen.length} trials (> ${MAX_WORK})`);
  } finally {
    setBulkStrings(true);
  }
});

test('soft: with page-run REP STOSB, a run slice ends after at most REP_SLICE string iterations', () => {
  const backend = openSoftBackend();
  try {
    const mem = backend.allocate(RAM_SIZE);
    const m = backend.createMachine();
    m.map(0, mem, 0, RAM_SIZE, 'rwx');
    // The buffer starts 0x100 into a page, so the slice's end does not fall on a page boundary
    // (a page run that overran the budget would show).
    const start = BUF + 0x100;
    mem.bytes.set(STOSB_LOOP, ENTRY);
    new DataView(mem.bytes.buffer).setUint32(ENTRY + STOSB_LOOP.indexOf(0xbf) + 1, start, true);
    const cpu = m.createVcpu(0) as SoftVcpu;
    cpu.setState(longModeState({ ram: mem.bytes, ramGpa: 0, tablesGpa: RAM_SIZE - 0x10000, mapBytes: RAM_SIZE },
      { entry: ENTRY, stack: 0x80000, cpl: 0 }), State.ALL);
    // Seven instructions: the six before REP STOSB, then the REP's first slice (a REP that stops
    // for its slice counts as retired; it goes on at the next run).
    assert.equal(cpu.run(7).reason, 'stopped');
    const g = cpu.getState(State.GPRS).gprs!;
    const work = (Number(g.rbx) - 1) * PASS + PASS - Number(g.rcx & 0xffffffffn);
    assert.ok(work > 0 && work <= REP_SLICE, `the first slice ran ${work} string iterations (REP_SLICE ${REP_SLICE})`);
    assert.deepEqual([mem.bytes[start + work - 1], mem.bytes[start + work]], [1, 0], 'the slice filled exactly the iterations counted');
  } finally {
    backend.close();
  }
});

async function stosbTrial(): Promise<number> {
  const vm = softVm();
  try {
    vm.ram.set(STOSB_LOOP, ENTRY);
    vm.cpu.setState(longMode(vm, ENTRY));
    assert.ok(vm.ram.buffer instanceof SharedArrayBuffer, 'soft guest RAM is shared with workers');
    const { c1, p1 } = await stopDuring(vm.cpu, vm.ram, true);
    const g = vm.cpu.getState(State.GPRS).gprs!;
    const c2 = Number(g.rbx & 0xffffn);
    const p2 = PASS - Number(g.rcx & 0xffffffffn);
    const work = (c2 - c1) * PASS + p2 - p1;
    console.log(`# stop acted after ${work} string iterations (pass ${c1} byte ${p1} -> pass ${c2} byte ${p2})`);
    assert.ok(work >= 0, `the guest went backwards: pass ${c1} byte ${p1} -> pass ${c2} byte ${p2}`);
    return work;
  } finally {
    vm.hv.close();
  }
}

test('soft: stop() acts within two passes of a real-mode rep lodsb loop over 64 KiB', async () => {
  // Each pass is 65535 iterations: the pass in progress plus at most one more stays under 2 x 10^5.
  const seen = await bestOf(1, lodsbTrial);
  assert.ok(Math.min(...seen) <= 1, `stop let the guest run ${seen.join(', ')} more passes of 65535 iterations in ${seen.length} trials`);
});

async function lodsbTrial(): Promise<number> {
  const vm = softVm();
  try {
    // 1: inc word [COUNTER]; xor si,si; mov cx,0xffff; rep lodsb; jmp 1b
    vm.ram.set([0xff, 0x06, 0x00, 0x90, 0x31, 0xf6, 0xb9, 0xff, 0xff, 0xf3, 0xac, 0xeb, 0xf3], 0x1000);
    vm.cpu.setState(realModeState(0, 0x1000));
    const { c1 } = await stopDuring(vm.cpu, vm.ram, false);
    const c2 = new DataView(vm.ram.buffer).getUint16(COUNTER, true);
    console.log(`# stop acted between pass ${c1} and pass ${c2}`);
    return c2 - c1;
  } finally {
    vm.hv.close();
  }
}
