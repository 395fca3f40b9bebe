/**
 * Differential fuzz of the soft CPU's execution tiers: each random program (random-program.ts)
 * runs from the same state and RAM four times: interpreter only (fetch + execute, one
 * instruction at a time), blocks of per-instruction compiled forms, blocks compiled to one
 * function after 1-3 runs (in every other case as regions: the hot blocks of a page that branch
 * to each other in one function, region.ts), and blocks compiled to wasm. After every exit
 * (faults reach a HLT per vector and are resumed past the faulting instruction; port I/O and
 * MMIO are skipped) the exit, the whole vCPU state (TSC = instructions retired included) and the
 * low RAM must be identical, and all RAM at the end.
 * TSVISOR_SEED replays a run; TSVISOR_BLOCK_FUZZ sets the number of cases (default 240).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { State, type VcpuStateInput, type VmExit } from '../../src/index.js';
import { encodeDescriptor, flat32State, longModeState, realModeState, segment } from '../../src/x86/boot-state.js';
import { openSoftBackend } from '../../src/backends/soft/index.js';
import { HAS_ERROR_CODE } from '../../src/backends/soft/exceptions.js';
import { RUN_SLICE, setRunSlice } from '../../src/backends/soft/run.js';
import { setWasmBatch, WASM_BATCH } from '../../src/backends/soft/wasm/block-wasm.js';
import type { SoftVcpu } from '../../src/backends/soft/vcpu.js';
import type { GuestMemory } from '../../src/backends/backend.js';
import { Rng, testSeed } from '../exec/rng.js';
import { LAYOUT, randomProgram, type Mode, type Program } from './random-program.js';

const CASES = Number(process.env.TSVISOR_BLOCK_FUZZ ?? 240);
const MAX_EXITS = 30;
/** Instructions per run() call: loops that lost their counter end here. */
const RUN_BOUND = 4000;

interface Tier {
  name: string; interpretOnly: boolean; hotBlockRuns: number; wasmBlockRuns: number; regions?: boolean;
  /** The wasm tier's batches (WASM_BATCH): blocks per module, instructions the first waits. */
  wasmBatch?: readonly [number, number];
}

interface Case { mode: Mode; cpl: 0 | 3; prog: Program; image: Uint8Array; state: VcpuStateInput; slice: number }

/** Gates for every vector to handlers + vector: a HLT byte each, so the exit tells the vector. */
function installHandlers(ram: Uint8Array, mode: Mode): Partial<NonNullable<VcpuStateInput['segs']>> {
  const v = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  ram.fill(0xf4, LAYOUT.handlers, LAYOUT.handlers + 256);
  if (mode === 16) {
    for (let n = 0; n < 256; n++) {
      v.setUint16(n * 4, LAYOUT.handlers - LAYOUT.segBase16 + n, true);
      v.setUint16(n * 4 + 2, LAYOUT.segBase16 >> 4, true);
    }
    return {};
  }
  const gate = mode === 64 ? 16 : 8;
  for (let n = 0; n < 256; n++) {
    const at = LAYOUT.idt + n * gate, h = LAYOUT.handlers + n;
    v.setUint16(at, h & 0xffff, true);
    v.setUint16(at + 2, 0x08, true);
    v.setUint16(at + 4, 0x8e00, true); // present interrupt gate, DPL0
    v.setUint16(at + 6, h >>> 16, true);
  }
  const idt = segment({ selector: 0, base: BigInt(LAYOUT.idt), limit: 256 * gate - 1, type: 0, s: 0 });
  if (mode === 64) return { idt };
  // 32-bit: a GDT with the flat code (0x08) and data (0x10) segments flat32State names.
  for (const [sel, type] of [[0x08, 0xb], [0x10, 0x3]] as const) {
    const [lo, hi] = encodeDescriptor(segment({ selector: sel, limit: 0xffffffff, type, def: 1, g: 1 }));
    v.setUint32(LAYOUT.gdt + sel, lo, true);
    v.setUint32(LAYOUT.gdt + sel + 4, hi, true);
  }
  return { idt, gdt: segment({ selector: 0, base: BigInt(LAYOUT.gdt), limit: 0x17, type: 0, s: 0 }) };
}

function makeCase(rng: Rng, mem: GuestMemory, mode: Mode): Case {
  const ram = mem.bytes;
  ram.fill(0);
  const prog = randomProgram(rng, mode, 30 + rng.int(90));
  ram.set(prog.bytes, LAYOUT.code);
  for (let a = LAYOUT.data; a < LAYOUT.data + LAYOUT.dataSize; a++) ram[a] = rng.int(256);
  for (let a = LAYOUT.rom; a < LAYOUT.rom + 0x1000; a++) ram[a] = rng.int(256);
  const segs = installHandlers(ram, mode);
  const base = mode === 16 ? LAYOUT.segBase16 : 0;
  // A third of the 64-bit cases run at CPL3 (user pages: the probe's user rights; port I/O faults).
  const cpl = mode === 64 && rng.int(3) === 0 ? 3 : 0;
  const st: VcpuStateInput = mode === 16 ? realModeState(LAYOUT.segBase16 >> 4, 0, LAYOUT.stack - base)
    : mode === 32 ? flat32State(LAYOUT.code, LAYOUT.stack)
    : longModeState({ ram, ramGpa: 0, tablesGpa: LAYOUT.ram - 0x10000, mapBytes: 2 * 2 ** 20 }, { entry: LAYOUT.code, stack: LAYOUT.stack, cpl, kernelStack: LAYOUT.stack + 0x1000 });
  st.segs = { ...st.segs, ...segs };
  // Scratch registers random; pointers into the data pages (EBX just below a page boundary),
  // the code page (EBP: writes through it modify code ahead) and, in 64-bit, ROM and MMIO.
  const ptr = (lin: number): bigint => BigInt(lin - base);
  const codeLen = prog.bytes.length;
  const g = st.gprs!;
  g.rax = rng.value(); g.rcx = rng.int(2) ? BigInt(rng.int(8)) : rng.value(); g.rdx = rng.value();
  g.rbx = ptr(LAYOUT.dataCross - rng.int(64));
  g.rbp = ptr(LAYOUT.code + rng.int(codeLen));
  g.rsi = ptr(LAYOUT.data + rng.int(LAYOUT.dataSize));
  g.rdi = ptr(LAYOUT.data + rng.int(LAYOUT.dataSize));
  if (mode === 64) {
    g.r8 = rng.value(); g.r9 = rng.value(); g.r10 = rng.value(); g.r12 = rng.value();
    g.r11 = ptr(rng.int(2) ? LAYOUT.mmio + rng.int(0x100) : LAYOUT.rom + rng.int(0x1000));
    g.r13 = ptr(LAYOUT.code + rng.int(codeLen));
    g.r14 = ptr(LAYOUT.dataCross - rng.int(64));
    g.r15 = ptr(LAYOUT.data + rng.int(LAYOUT.dataSize));
  }
  g.rflags = BigInt((rng.int(0x1000) & 0x8d5) | 2);
  // XMM registers random, so that the vector forms (block-vector.ts) move and combine lanes that
  // differ (the whole state, XMM included, is compared across tiers).
  st.fpu = { ...st.fpu, xmm: Array.from({ length: 16 }, () => Uint8Array.from({ length: 16 }, () => rng.int(256))) };
  return { mode, cpl, prog, image: ram.slice(), state: st, slice: rng.pick([1 << 16, 1 << 16, 37, 5]) };
}

/** RAM as the guest sees it: everything but the MMIO hole (not RAM) and the read-only page. */
function mapRam(m: ReturnType<ReturnType<typeof openSoftBackend>['createMachine']>, mem: GuestMemory): void {
  m.map(0, mem, 0, LAYOUT.rom, 'rwx');
  m.map(LAYOUT.rom, mem, LAYOUT.rom, 0x1000, 'rx');
  m.map(LAYOUT.rom + 0x1000, mem, LAYOUT.rom + 0x1000, LAYOUT.mmio - LAYOUT.rom - 0x1000, 'rwx');
  m.map(LAYOUT.mmio + 0x1000, mem, LAYOUT.mmio + 0x1000, LAYOUT.ram - LAYOUT.mmio - 0x1000, 'rwx');
}

const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) =>
  typeof v === 'bigint' ? v.toString(16) : v instanceof Uint8Array ? Array.from(v) : v);

/**
 * After a fault reached its HLT: pops the frame the CPU pushed and resumes at the instruction
 * after the faulting one (traps: at the one the frame names). False when that is not a known
 * instruction start (the code was rewritten) or the frame is not in RAM.
 */
function resumeAfterFault(cpu: SoftVcpu, c: Case, vector: number, ram: Uint8Array): boolean {
  const st = cpu.getState(State.GPRS | State.SEGS);
  const g = st.gprs!;
  const w = c.mode === 64 ? 8 : c.mode === 32 ? 4 : 2;
  let sp = Number(st.segs!.ss!.base) + Number(g.rsp & 0xffffffffffffn);
  if (c.mode !== 16 && HAS_ERROR_CODE.has(vector)) sp += w;
  if (sp < 0 || sp + 5 * w > ram.length) return false;
  const v = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const rd = (a: number): number => (w === 8 ? Number(v.getBigUint64(a, true)) : w === 4 ? v.getUint32(a, true) : v.getUint16(a, true));
  const base = c.mode === 16 ? LAYOUT.segBase16 : 0;
  const at = rd(sp) + base;
  const trap = vector === 1 || vector === 3 || vector === 4;
  const next = c.prog.starts.find((s) => (trap ? s >= at : s > at));
  if (next === undefined || (trap && next !== at)) return false;
  const rsp = c.mode === 64 ? BigInt(rd(sp + 3 * w)) : BigInt(sp + 3 * w - Number(st.segs!.ss!.base));
  cpu.setState({ gprs: { rip: BigInt(next - base), rsp, rflags: BigInt(rd(sp + 2 * w) | 2) } }, State.GPRS);
  // Back to user mode as IRET would: the code and stack segments the case started with.
  if (c.cpl === 3) cpu.setState({ segs: { cs: c.state.segs!.cs!, ss: c.state.segs!.ss! } }, State.SEGS);
  return true;
}

/** Runs the case on one tier; returns one line per exit and the final RAM. */
function runTier(c: Case, tier: Tier, mem: GuestMemory): { trace: string[]; ram: Uint8Array; compiled: number; regions: number; retired: number; chainSteps: number } {
  const backend = openSoftBackend();
  const m = backend.createMachine();
  mem.bytes.set(c.image);
  mapRam(m, mem);
  const cpu = m.createVcpu(0) as SoftVcpu;
  cpu.cpu.interpretOnly = tier.interpretOnly;
  cpu.cpu.hotBlockRuns = tier.hotBlockRuns;
  cpu.cpu.wasmBlockRuns = tier.wasmBlockRuns;
  cpu.cpu.regions = tier.regions ?? false;
  cpu.setState(c.state, State.ALL);
  const trace: string[] = [];
  let compiled = 0, regions = 0, retired = 0, chainSteps = 0;
  const saved = RUN_SLICE, savedBatch = [WASM_BATCH.size, WASM_BATCH.wait] as const;
  setRunSlice(c.slice);
  if (tier.wasmBatch) setWasmBatch(...tier.wasmBatch);
  try {
    for (let n = 0; n < MAX_EXITS; n++) {
      const e: VmExit = cpu.run(RUN_BOUND);
      const low = createHash('sha1').update(mem.bytes.subarray(0, 0x20000)).digest('hex');
      trace.push(`${json(e)}\n  state ${json(cpu.getState(State.ALL))}\n  low RAM ${low}`);
      const rip = Number(cpu.getState(State.GPRS).gprs!.rip) + (c.mode === 16 ? LAYOUT.segBase16 : 0);
      if (e.reason === 'halted' && rip > LAYOUT.handlers && rip <= LAYOUT.handlers + 256) {
        if (!resumeAfterFault(cpu, c, rip - LAYOUT.handlers - 1, mem.bytes)) break;
      } else if (e.reason === 'io') {
        cpu.setState({ gprs: { rip: e.npc } }, State.GPRS);
      } else if (e.reason === 'memory' && e.instBytes.length > 0) {
        cpu.setState({ gprs: { rip: BigInt(rip - (c.mode === 16 ? LAYOUT.segBase16 : 0) + e.instBytes.length) } }, State.GPRS);
      } else {
        break;
      }
    }
  } finally {
    setRunSlice(saved);
    setWasmBatch(...savedBatch);
    for (const page of cpu.cpu.codeCache.values()) {
      for (const b of page.blocks.values()) {
        if (b.fn !== undefined) compiled++;
        if (b.region !== undefined) regions++;
      }
    }
    retired = cpu.cpu.instret;
    chainSteps = cpu.cpu.wasm?.chainSteps ?? 0;
    m.destroy();
    backend.close();
  }
  return { trace, ram: mem.bytes.slice(), compiled, regions, retired, chainSteps };
}

function codegenAllowed(): boolean {
  try {
    return typeof new Function('return 1') === 'function';
  } catch {
    return false;
  }
}

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

test('interpreter, per-instruction blocks and compiled blocks agree on random programs in every mode', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const mem: GuestMemory = { bytes: new Uint8Array(new SharedArrayBuffer(LAYOUT.ram)), size: LAYOUT.ram };
  const exits = new Map<string, number>();
  let compiledBlocks = 0, regions = 0, wasmBlocks = 0, chainSteps = 0, retired = 0;
  const wasmBackend = openSoftBackend();
  for (let k = 0; k < CASES; k++) {
    const mode = ([16, 32, 64] as const)[k % 3]!;
    const c = makeCase(rng, mem, mode);
    const tiers: Tier[] = [
      { name: 'interpreter', interpretOnly: true, hotBlockRuns: Infinity, wasmBlockRuns: Infinity },
      { name: 'per-instruction blocks', interpretOnly: false, hotBlockRuns: Infinity, wasmBlockRuns: Infinity },
      // Every other case, hot blocks take the blocks of their page they branch to (regions).
      { name: 'compiled blocks', interpretOnly: false, hotBlockRuns: 1 + rng.int(3), wasmBlockRuns: Infinity, regions: k % 2 === 1 },
      // Blocks compile in modules of one to four, the first waiting up to 300 instructions for the others.
      { name: 'wasm blocks', interpretOnly: false, hotBlockRuns: Infinity, wasmBlockRuns: 1 + rng.int(3), wasmBatch: [1 + rng.int(4), rng.int(300)] },
    ];
    const ref = runTier(c, tiers[0]!, mem);
    for (const tier of tiers.slice(1)) {
      // The wasm tier needs guest RAM in a wasm memory (the soft backend's own allocation), one
      // per run: a memory has arena slots for a few vCPUs only.
      const wasmRam = tier === tiers[3] ? wasmBackend.allocate(LAYOUT.ram) : undefined;
      const got = runTier(c, tier, wasmRam ?? mem);
      if (wasmRam !== undefined) wasmBackend.release(wasmRam);
      const where = `seed ${seed} (TSVISOR_SEED=${seed}) case ${k}, ${mode}-bit CPL${c.cpl}, slice ${c.slice}, ${tier.name} (hot after ${tier.hotBlockRuns}) vs interpreter`;
      const n = Math.max(ref.trace.length, got.trace.length);
      for (let i = 0; i < n; i++) {
        if (ref.trace[i] !== got.trace[i]) {
          assert.fail(`${where}: exit ${i} differs\n interpreter: ${ref.trace[i]}\n ${tier.name}: ${got.trace[i]}\n program at 0x${LAYOUT.code.toString(16)}: ${hexBytes(c.prog.bytes)}`);
        }
      }
      const diff = ref.ram.findIndex((b, i) => got.ram[i] !== b);
      assert.equal(diff, -1, `${where}: RAM differs at 0x${diff.toString(16)}\n program: ${hexBytes(c.prog.bytes)}`);
      if (tier === tiers[2]) compiledBlocks += got.compiled;
      if (tier === tiers[2]) regions += got.regions;
      if (tier === tiers[3]) wasmBlocks += got.compiled;
      if (tier === tiers[3]) chainSteps += got.chainSteps;
    }
    retired += ref.retired;
    for (const line of ref.trace) {
      const reason = /"reason":"([a-z-]+)"/.exec(line)?.[1] ?? '?';
      exits.set(reason, (exits.get(reason) ?? 0) + 1);
    }
  }
  console.log(`# block diff fuzz seed ${seed}: ${CASES} cases, ${retired} instructions each tier, ${compiledBlocks} blocks compiled (${regions} as regions of several), ${wasmBlocks} to wasm (${chainSteps} steps between them inside wasm), exits ${json([...exits])}`);
  // The programs must reach the paths this test is for: faults, MMIO, port I/O, the end. Port I/O
  // comes in about one case in ten: a short run (no-codegen.test.ts: 45 cases) may miss it by
  // chance (seed 820931380), so the check needs the default number of cases.
  if (CASES >= 200) for (const r of ['halted', 'memory', 'io']) assert.ok((exits.get(r) ?? 0) > 0, `seed ${seed}: no '${r}' exit in ${CASES} cases`);
  // Where code generation from strings is disallowed (no-codegen.test.ts runs this file so) no
  // block compiles, and the per-instruction tiers must still agree with the interpreter.
  if (codegenAllowed()) {
    assert.ok(compiledBlocks > CASES, `seed ${seed}: only ${compiledBlocks} blocks were compiled`);
    if (CASES >= 200) assert.ok(regions > 0, `seed ${seed}: no region formed`);
  } else {
    assert.equal(compiledBlocks, 0);
  }
  assert.ok(wasmBlocks > CASES / 2, `seed ${seed}: only ${wasmBlocks} blocks were compiled to wasm`);
  // 64-bit wasm blocks run chained (wasm/chain.ts): the fuzz must take steps from block to block
  // there (86 in the fewest seen at 240 cases, seed 1180210574: most programs loop in one block).
  // A short run may take none (no-codegen.test.ts's 45 cases, seed 807901083): as for the exits.
  if (CASES >= 200) assert.ok(chainSteps > 0, `seed ${seed}: no step between wasm blocks was taken inside wasm`);
});
