/**
 * The XMM forms compiled blocks take in (src/backends/soft/block-vector.ts) against the same
 * guest run one instruction at a time through the forms' closures: a 64-bit loop over every
 * inlined form (both MOVDQA directions, the three shifts by an immediate, MOVD from memory,
 * REX-extended registers, a source that is the destination) from random XMM contents and data,
 * compiled after a few runs, never compiled (cold records, cold-code.ts) and one at a time. The XMM
 * registers, RIP, RCX and the retired count must match; and with CR0.TS set under the compiled
 * block (or the cold records), it declines and the closure raises #NM at the same instruction.
 * Seeded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { Rng, testSeed } from '../exec/rng.js';
import { longMode, RUN_WAYS, runChangingAfter, softVm, useWay, type RunWay } from './vm.js';

const CODE = 0x10000;
const PASSES = 40;
const LOOP = [
  0x66, 0x0f, 0xfe, 0xc1, // paddd xmm0, xmm1
  0x66, 0x0f, 0xef, 0xd0, // pxor xmm2, xmm0
  0x66, 0x0f, 0x72, 0xd2, 0x07, // psrld xmm2, 7
  0x66, 0x0f, 0x72, 0xf3, 0x19, // pslld xmm3, 25
  0x66, 0x0f, 0x72, 0xe1, 0x03, // psrad xmm1, 3
  0x66, 0x0f, 0x72, 0xd4, 0x21, // psrld xmm4, 33 (clears)
  0x66, 0x0f, 0xeb, 0xda, // por xmm3, xmm2
  0x66, 0x0f, 0x70, 0xe3, 0x39, // pshufd xmm4, xmm3, 0x39
  0x66, 0x0f, 0x70, 0xdb, 0x1b, // pshufd xmm3, xmm3, 0x1b
  0x66, 0x0f, 0x62, 0xe5, // punpckldq xmm4, xmm5
  0x66, 0x0f, 0x62, 0xed, // punpckldq xmm5, xmm5
  0x66, 0x0f, 0x6c, 0xee, // punpcklqdq xmm5, xmm6
  0x66, 0x0f, 0x6f, 0xf4, // movdqa xmm6, xmm4
  0x66, 0x0f, 0x7f, 0xf7, // movdqa xmm7, xmm6 (0F 7F: ModRM.rm is the destination)
  0x66, 0x0f, 0xdb, 0xf9, // pand xmm7, xmm1
  0x66, 0x0f, 0xdf, 0xc7, // pandn xmm0, xmm7
  0x66, 0x45, 0x0f, 0xfe, 0xc8, // paddd xmm9, xmm8
  0x66, 0x41, 0x0f, 0xef, 0xc1, // pxor xmm0, xmm9
  0x66, 0x0f, 0xfe, 0xc9, // paddd xmm1, xmm1
  0x66, 0x0f, 0x6e, 0x56, 0x08, // movd xmm2, [rsi + 8]
  0x66, 0x44, 0x0f, 0x6e, 0x46, 0x0c, // movd xmm8, [rsi + 12]
  0x83, 0xc6, 0x04, // add esi, 4
  0xff, 0xc9, // dec ecx
];
/** Where RSI starts: the data MOVD reads, a dword further each pass. */
const DATA = 0x20000;

function guest(): Uint8Array {
  const back = -(LOOP.length + 2);
  // mov ecx, PASSES; loop: ...; jnz loop; hlt
  return Uint8Array.from([0xb9, PASSES, 0, 0, 0, ...LOOP, 0x75, back & 0xff, 0xf4]);
}

interface Run { exits: string[]; xmm: string; gprs: string; tsc: bigint }
interface Start { xmm: Uint8Array[]; data: Uint8Array }

/** CR0.TS: the XMM forms raise #NM. */
const CR0_TS = 8n;

/**
 * Runs the guest from start one way (vm.ts RUN_WAYS: cold blocks, compiled blocks, one
 * instruction at a time); with tsAfter, CR0.TS is set once that many instructions have retired
 * (the loop's block compiled by then in the compiled way), and the run goes on.
 */
function run(start: Start, way: RunWay, tsAfter?: number): Run {
  const vm = softVm();
  try {
    useWay(vm, way);
    vm.ram.set(guest(), CODE);
    vm.ram.set(start.data, DATA);
    const base = longMode(vm, CODE);
    vm.cpu.setState({ ...base, gprs: { ...base.gprs, rsi: BigInt(DATA) }, fpu: { xmm: start.xmm } });
    const exits = runChangingAfter(vm, tsAfter, () => {
      const cr0 = vm.cpu.getState(State.CRS).crs!.cr0;
      vm.cpu.setState({ crs: { cr0: cr0 | CR0_TS } }, State.CRS);
    }).map((e) => e.reason);
    const s = vm.cpu.getState(State.ALL);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    return { exits, xmm: s.fpu!.xmm.map(hex).join(' '), gprs: `rip ${s.gprs!.rip.toString(16)} rcx ${s.gprs!.rcx.toString(16)}`, tsc: s.msrs!.tsc };
  } finally {
    vm.hv.close();
  }
}

/** Each way's run from start, by the way's label. */
function everyWay(start: Start, tsAfter?: number): Run[] {
  return RUN_WAYS.map((way) => run(start, way, tsAfter));
}

function randomStart(rng: Rng): Start {
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rng.int(256));
  return { xmm: Array.from({ length: 16 }, () => bytes(16)), data: bytes(4 * PASSES + 16) };
}

/** Instructions per pass of the loop: LOOP's, then the JNZ. */
const PER_PASS = 24;

test('XMM forms inlined in compiled blocks match the one-at-a-time closures', () => {
  const rng = new Rng(testSeed());
  for (let round = 0; round < 4; round++) {
    const start = randomStart(rng);
    const [cold, fast, slow] = everyWay(start);
    assert.deepEqual(fast, slow, `round ${round}`);
    assert.deepEqual(cold, slow, `round ${round}, never compiled`);
    assert.deepEqual(fast.exits, ['halted']);
    assert.match(fast.gprs, / rcx 0$/);
    assert.equal(fast.tsc, BigInt(1 + PASSES * PER_PASS + 1), 'MOV, every pass, HLT');
  }
});

test('with CR0.TS set under a compiled block, its XMM forms decline and the closure raises #NM there', () => {
  const rng = new Rng(testSeed());
  const start = randomStart(rng);
  // At the loop's start after ten passes: the next block to run is the loop's, compiled by then.
  const at = 1 + 10 * PER_PASS;
  const [cold, fast, slow] = everyWay(start, at);
  assert.deepEqual(fast, slow);
  assert.deepEqual(cold, slow, 'never compiled');
  assert.equal(fast.exits[0], 'stopped');
  assert.equal(fast.tsc, BigInt(at), 'the first XMM form of the pass faults: nothing more retires');
});
