/**
 * INC/DEC with a memory operand as compiled blocks run them (block-inline.ts: one write probe,
 * the flags recorded only where the write cannot fault) against the same guest one instruction
 * at a time: a 64-bit loop over GS-relative (Linux's per-CPU preempt count), base-relative,
 * 32- and 64-bit forms, whose flags SETcc and ADC read back, from values at the edges (0,
 * 0x7fffffff, 0xffffffff...). RAM, the GPRs, RFLAGS and the retired count must match; and with
 * the operand's page mapped read-only mid-run, both end with the same memory exit at the same
 * write, nothing changed before it. Seeded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { Rng, testSeed } from '../exec/rng.js';
import { longMode, RUN_WAYS, runChangingAfter, softVm, useWay, type RunWay } from './vm.js';

const CODE = 0x10000, DATA = 0x20000, PERCPU = 0x30000, PREEMPT = 0x24;
const PASSES = 40;
const LOOP = [
  0x8b, 0x7e, 0x18, // mov edi, [rsi + 24] (the page is readable, so its read right is cached)
  0x65, 0xff, 0x04, 0x25, PREEMPT, 0, 0, 0, // inc dword gs:[PREEMPT]
  0x48, 0xff, 0x4e, 0x08, // dec qword [rsi + 8]
  0xff, 0x06, // inc dword [rsi]
  0x0f, 0x92, 0xc0, // setb al (CF kept by INC/DEC)
  0xff, 0x4e, 0x04, // dec dword [rsi + 4]
  0x0f, 0x94, 0xc3, // sete bl
  0x0f, 0x90, 0xc7, // seto bh
  0x48, 0xff, 0x46, 0x10, // inc qword [rsi + 16]
  0x48, 0x11, 0xc2, // adc rdx, rax
  0x48, 0x01, 0xda, // add rdx, rbx
  0x65, 0xff, 0x0c, 0x25, PREEMPT + 4, 0, 0, 0, // dec dword gs:[PREEMPT + 4]
  0x48, 0x83, 0xc6, 0x04, // add rsi, 4
  0xff, 0xc9, // dec ecx
];
/** Instructions per pass: LOOP's, then the JNZ. */
const PER_PASS = 15;
const EDGES = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

function guest(): Uint8Array {
  const back = -(LOOP.length + 2);
  return Uint8Array.from([0xb9, PASSES, 0, 0, 0, 0x31, 0xd2, ...LOOP, 0x75, back & 0xff, 0xf4]);
}

interface Run { exits: string[]; ram: string; regs: string; tsc: bigint }

/**
 * Runs the guest over data one way (vm.ts RUN_WAYS); with readOnlyAfter, the data page is mapped
 * read-only once that many instructions have retired, and the run goes on.
 */
function run(data: Uint8Array, way: RunWay, readOnlyAfter?: number): Run {
  const vm = softVm();
  try {
    useWay(vm, way);
    vm.ram.set(guest(), CODE);
    vm.ram.set(data, DATA);
    vm.ram.set(data.subarray(0, 16), PERCPU + PREEMPT);
    const base = longMode(vm, CODE);
    vm.cpu.setState({ ...base, gprs: { ...base.gprs, rsi: BigInt(DATA) }, segs: { ...base.segs, gs: { ...base.segs!.gs!, base: BigInt(PERCPU) } } });
    const exits = runChangingAfter(vm, readOnlyAfter, () => {
      vm.m.unmap(DATA, 0x1000);
      vm.m.map(DATA, vm.mem, { offset: DATA, size: 0x1000, prot: 'r' });
    }).map((e) => (e.reason === 'memory' ? `memory ${e.gpa.toString(16)} ${e.write}` : e.reason));
    const g = vm.cpu.getState(State.GPRS).gprs!;
    const ram = Buffer.from(vm.ram.subarray(DATA, DATA + data.length)).toString('hex') + ' ' + Buffer.from(vm.ram.subarray(PERCPU, PERCPU + 64)).toString('hex');
    return { exits, ram, regs: [g.rip, g.rax, g.rbx, g.rcx, g.rdx, g.rsi, g.rdi, g.rflags].map((v) => v.toString(16)).join(' '), tsc: vm.cpu.getState(State.MSRS).msrs!.tsc };
  } finally {
    vm.hv.close();
  }
}

function randomData(rng: Rng): Uint8Array {
  const words = new Uint32Array(PASSES + 8).map(() => rng.int(3) === 0 ? rng.pick(EDGES) : (rng.next() * 2 ** 32) >>> 0);
  return new Uint8Array(words.buffer);
}

test('INC/DEC on memory in compiled blocks (and cold ones) match one instruction at a time', () => {
  const rng = new Rng(testSeed());
  for (let round = 0; round < 4; round++) {
    const data = randomData(rng);
    const [cold, fast, slow] = RUN_WAYS.map((way) => run(data, way));
    assert.deepEqual(fast, slow, `round ${round}`);
    assert.deepEqual(cold, slow, `round ${round}, never compiled`);
    assert.deepEqual(fast.exits, ['halted']);
    assert.equal(fast.tsc, BigInt(2 + PASSES * PER_PASS + 1), 'MOV, XOR, every pass, HLT');
  }
});

test('INC/DEC on memory made read-only mid-run: the same memory exit, nothing changed before it', () => {
  const rng = new Rng(testSeed());
  const data = randomData(rng);
  // At the loop's start after ten passes (the block compiled by then), the data page read-only:
  // the first write to it is DEC [rsi + 8], RSI four bytes further each pass.
  const at = 2 + 10 * PER_PASS;
  const [cold, fast, slow] = RUN_WAYS.map((way) => run(data, way, at));
  assert.deepEqual(fast, slow);
  assert.deepEqual(cold, slow, 'never compiled');
  assert.deepEqual(fast.exits, ['stopped', `memory ${(DATA + 4 * 10 + 8).toString(16)} true`]);
});
