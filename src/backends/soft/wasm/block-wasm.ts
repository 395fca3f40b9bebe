/**
 * The wasm tier: a hot block's function text (block-compile.ts blockFunctionText, the same text
 * the JS tier compiles) translated to WebAssembly (js-to-wasm.ts), the executor helpers it calls
 * translated in place where the translator takes their bodies, and run with the JS block's
 * contract (BlockFn). Off unless TSVISOR_SOFT_WASM=N (compile after N runs): measured on the
 * Linux boot it is slower than the JS tier today (see WASM_BLOCK_RUNS).
 *
 * What a block touches must be in the wasm memory: guest RAM is (arena.ts), and the vCPU's
 * register file, segment bases and limits move into its arena slot when the vCPU first compiles
 * a wasm block (the CPU object's typed arrays become views of the slot, so every tier shares
 * them). The TLB keeps a mirror of its double probe there and its pair probe's arrays move there
 * (tlb.ts TlbMirror). The lazy flag record, which the JS tiers keep as object fields, is copied
 * into the slot before wasm runs and back after it, and around every call a wasm block makes
 * into JS. In 64-bit code the blocks run chained (chain.ts): one entry from the run loop runs
 * block after block inside wasm. Blocks compile in batches, one module each (WASM_BATCH).
 */
import type { Compiled } from '../../../x86/exec/compile.js';
import type { Instruction } from '../../../x86/instruction.js';
import { pairOut } from '../../../x86/exec/pair.js';
import { wide } from '../../../x86/exec/wide.js';
import { blockFunctionText, type BlockFn } from '../block-compile.js';
import { BLOCK_HELPERS } from '../block-inline.js';
import type { Block, SoftCpu } from '../cpu.js';
import type { PhysRegion } from '../memory.js';
import { TLB_SIZE } from '../tlb.js';
import { ARENA_JUMP, ARENA_PAIRS, ARENA_TLB, takeArenaSlot, wasmRamOf } from './arena.js';
import { chainModule, JUMP_BYTES, JUMP_ENTRIES, JUMP_ENTRY_BYTES } from './chain.js';
import { RIP_LO } from '../../../x86/exec/context.js';
import { translateFunctions, type Binding, type ImportUse } from './js-to-wasm.js';
import { allClosures } from '../block-closures.js';

/** Byte offsets in a vCPU's arena slot. */
const REGS = 0, SEG_BASE = 256, SEG_READ = 320, SEG_WRITE = 384;
const FLAG_BITS = 512, LF_OP = 516, CODE_GEN = 520, CPL = 524, LA57 = 528;
/** The chain's (chain.ts ChainSlots): the block running, its start count (f64), leave, last result. */
const CURRENT = 532, LEAVE = 536, LAST_RESULT = 540, CURRENT_START = 544, CHAIN_STEPS = 552;
const LF_A = 576, LF_AH = 584, LF_B = 592, LF_BH = 600, LF_R = 608, LF_RH = 616, INSTRET = 624;
/** The helper modules' scratch objects' fields (half.hi, wide.w0...), 4 bytes each. */
const SCRATCH = 640, SCRATCH_END = 1024;
/** The TLB mirror: readS readU writeS writeU addr, TLB_SIZE doubles each. */
const TLB = ARENA_TLB;
/** The pair probe's arrays (readLoS readLoU writeLoS writeLoU tagHi at8, TLB_SIZE int32s each), then the chain's jump cache. */
const PAIRS = ARENA_PAIRS, JUMP = ARENA_JUMP;

/**
 * A block the wasm tier compiled: its module's function (budget) -> retired, and its index in the
 * vCPU's table of blocks the chain calls (-1: not in the table; placed when the run loop first
 * enters it).
 */
export interface WasmBlock {
  readonly run: (budget: number) => number;
  index: number;
}

/**
 * Table entries before the table starts over (the jump cache cleared, every block out of it):
 * the table holds its blocks, and so their modules, alive; blocks come back in as they run.
 */
const TABLE_MAX = 4096;

/**
 * Helpers whose bodies the translator does not take are called in JS. Results: booleans where a
 * helper returns one, else numbers (f64: a helper that returns a boolean the text uses as one,
 * or nothing, under f64 makes the translator refuse or drop the value, never compute something else).
 */
const HELPER_RESULT: Readonly<Record<string, 'bool'>> = { condition: 'bool', conditionOf: 'bool', canonicalHigh: 'bool' };
/**
 * Helpers known to touch no scratch object (half, wide, shiftOut, pairOut), or to write only
 * these: the arena's copy of those objects is synced around any other helper both ways.
 */
const SCRATCH_FREE = new Set(['effectiveAddress', 'condition', 'conditionOf', 'carry', 'writeCfOf', 'recordSzp', 'bit64', 'canonicalHigh', 'withinLimit']);
const WRITES_SCRATCH: Readonly<Record<string, object>> = { shl64: pairOut, shr64: pairOut, sar64: pairOut, mulU32: wide, mulS32: wide, mulS64: wide };

/** A vCPU's wasm state: its arena slot, the memory, and what block texts' names mean there. */
export class WasmCpu {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly env: Record<string, Binding>;
  /** Each scratch object's fields with their index in i32. */
  private readonly scratchOf = new Map<object, { obj: Record<string, number>; field: string; at: number }[]>();
  /** The blocks the chain can call, by table index (chain.ts). */
  private readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
  private readonly tableBlocks: Block[] = [];
  private readonly chain: (index: number, budget: number, count: number, stopBits: number) => number;

  constructor(private readonly cpu: SoftCpu, readonly memory: WebAssembly.Memory, readonly slot: number) {
    const buffer = memory.buffer;
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    // The CPU's typed arrays move into the slot: every tier reads and writes these from now on.
    const move = <T extends Int32Array | Float64Array>(from: T, at: number, make: (b: ArrayBufferLike, o: number, n: number) => T): T => {
      const to = make(buffer, slot + at, from.length);
      to.set(from as never);
      return to;
    };
    const i32At = (b: ArrayBufferLike, o: number, n: number): Int32Array => new Int32Array(b, o, n);
    const f64At = (b: ArrayBufferLike, o: number, n: number): Float64Array => new Float64Array(b, o, n);
    cpu.regs = move(cpu.regs, REGS, i32At);
    cpu.segBase = move(cpu.segBase, SEG_BASE, f64At);
    cpu.segReadMax = move(cpu.segReadMax, SEG_READ, f64At);
    cpu.segWriteMax = move(cpu.segWriteMax, SEG_WRITE, f64At);
    const tags = (k: number): Float64Array => new Float64Array(buffer, slot + TLB + k * TLB_SIZE * 8, TLB_SIZE);
    const pairs = [0, 1, 2, 3, 4, 5].map((k) => new Int32Array(buffer, slot + PAIRS + k * TLB_SIZE * 4, TLB_SIZE));
    cpu.tlb.attachMirror({ buffer, readS: tags(0), readU: tags(1), writeS: tags(2), writeU: tags(3), addr: tags(4), pairs });

    const slotAt = (at: number, type: 'i32' | 'f64'): Binding => ({ kind: 'slot', addr: slot + at, type });
    const array = (at: number, elem: 'i32' | 'f64'): Binding => ({ kind: 'array', base: slot + at, elem });
    const env: Record<string, Binding> = {
      budget: { kind: 'param', type: 'i32' },
      cpu: {
        kind: 'object', fields: {
          regs: array(REGS, 'i32'), segBase: array(SEG_BASE, 'f64'), segReadMax: array(SEG_READ, 'f64'), segWriteMax: array(SEG_WRITE, 'f64'),
          flagBits: slotAt(FLAG_BITS, 'i32'), lfOp: slotAt(LF_OP, 'i32'), codeGen: slotAt(CODE_GEN, 'i32'), cpl: slotAt(CPL, 'i32'),
          la57: slotAt(LA57, 'i32'), instret: slotAt(INSTRET, 'f64'),
          // The record's operands are int32 halves (lazy-flags.ts FlagState; flagsIn checks).
          lfA: slotAt(LF_A, 'i32'), lfAh: slotAt(LF_AH, 'i32'), lfB: slotAt(LF_B, 'i32'), lfBh: slotAt(LF_BH, 'i32'),
          lfR: slotAt(LF_R, 'i32'), lfRh: slotAt(LF_RH, 'i32'),
          flags: { kind: 'getter', name: 'flags', result: 'i32' },
          tlb: {
            kind: 'object', fields: {
              readS: array(TLB, 'f64'), readU: array(TLB + TLB_SIZE * 8, 'f64'),
              writeS: array(TLB + 2 * TLB_SIZE * 8, 'f64'), writeU: array(TLB + 3 * TLB_SIZE * 8, 'f64'),
              at: array(TLB + 4 * TLB_SIZE * 8, 'f64'),
              readLoS: array(PAIRS, 'i32'), readLoU: array(PAIRS + TLB_SIZE * 4, 'i32'), writeLoS: array(PAIRS + 2 * TLB_SIZE * 4, 'i32'),
              writeLoU: array(PAIRS + 3 * TLB_SIZE * 4, 'i32'), tagHi: array(PAIRS + 4 * TLB_SIZE * 4, 'i32'), at8: array(PAIRS + 5 * TLB_SIZE * 4, 'i32'),
              ram32: { kind: 'view', elem: 'i32' }, ram16: { kind: 'view', elem: 'u16' }, ram8: { kind: 'view', elem: 'u8' },
            },
          },
        },
      },
    };
    let at = SCRATCH;
    for (const [name, value] of Object.entries(BLOCK_HELPERS)) {
      if (typeof value === 'number' || typeof value === 'boolean') env[name] = { kind: 'const', value };
      else if (typeof value === 'function') {
        // Translated in place of each call (the JS tier relies on TurboFan to inline the calls
        // its text keeps), or called in JS where a body is outside the translator's subset.
        env[name] = { kind: 'inline', name, source: value.toString(), fallback: { kind: 'import', name, result: HELPER_RESULT[name] ?? 'f64' } };
      }
      else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
        const fields: Record<string, Binding> = {};
        const list: { obj: Record<string, number>; field: string; at: number }[] = [];
        for (const field of Object.keys(value)) {
          if (at >= SCRATCH_END) throw new Error('wasm tier: scratch objects outgrow their arena area');
          // int32 slots: the helpers' scratch outputs are 32-bit words and bits (a block that would
          // store anything else into one is refused by the translator; JS writes are checked).
          fields[field] = slotAt(at, 'i32');
          list.push({ obj: value as Record<string, number>, field, at: (slot + at) >> 2 });
          at += 4;
        }
        env[name] = { kind: 'object', fields };
        this.scratchOf.set(value, list);
      }
    }
    this.env = env;
    const bytes = chainModule({
      rip: slot + REGS + RIP_LO * 4, codeGen: slot + CODE_GEN, cpl: slot + CPL, flagBits: slot + FLAG_BITS, instret: slot + INSTRET,
      current: slot + CURRENT, currentStart: slot + CURRENT_START, leave: slot + LEAVE, lastResult: slot + LAST_RESULT, jump: slot + JUMP,
      steps: slot + CHAIN_STEPS,
    }, { pages: buffer.byteLength / 65536 });
    this.chain = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, table: this.table } }).exports['chain'] as typeof this.chain;
    this.clearJumps();
  }

  /**
   * Runs block (a wasm block at RIP, 64-bit code, count <= budget) and the blocks the chain finds
   * after it, at most budget instructions, leaving after a block that sets one of stopBits.
   * Returns CHAIN_ENDED (the last block ran to its end) or CHAIN_SETTLE (lastRun tells which
   * block returned what); cpu.instret has what they retired added, also when one throws.
   */
  runChain(block: Block, budget: number, stopBits: number): number {
    const w = block.wasm!, cpu = this.cpu, i = this.i32, s = this.slot;
    if (w.index < 0) this.place(block, w);
    // Its entry for RIP now: the chain finds it from the blocks that run before it from here on.
    const lo = cpu.regs[RIP_LO]!, e = (s + JUMP + ((lo ^ (lo >>> 12)) & (JUMP_ENTRIES - 1)) * JUMP_ENTRY_BYTES) >> 2;
    i[e] = lo; i[e + 1] = cpu.regs[RIP_LO + 1]!; i[e + 2] = cpu.codeGen; i[e + 3] = cpu.cpl; i[e + 4] = w.index; i[e + 5] = block.count;
    this.enter();
    i[(s + LEAVE) >> 2] = 0;
    try {
      return this.chain(w.index, budget, block.count, stopBits);
    } finally {
      this.exit();
    }
  }

  /** Before wasm runs: the flag record, CPL and LA57 into the arena, its retired count zeroed. */
  private enter(): void {
    const cpu = this.cpu, i = this.i32, s = this.slot;
    this.flagsIn();
    i[(s + CPL) >> 2] = cpu.cpl; i[(s + LA57) >> 2] = (cpu as { la57?: boolean }).la57 ? 1 : 0;
    this.f64[(s + INSTRET) >> 3] = 0;
  }

  /** After wasm ran or threw: the flag record back, what it retired added to cpu.instret. */
  private exit(): void {
    this.flagsOut();
    this.cpu.instret += this.f64[(this.slot + INSTRET) >> 3]!;
  }

  /**
   * Before JS code a wasm block calls that is given the CPU (a closure, a helper): the flag record
   * out, and cpu.instret as the JS tier's blocks show it to such code, the count when the running
   * block began. The arena's count holds what this entry into wasm retired so far, the chain's
   * earlier blocks included (each adds its own at its end); cpu.instret has it only from exit().
   * Returns the count callBack puts back.
   */
  private callOut(): number {
    this.flagsOut();
    const base = this.cpu.instret;
    this.cpu.instret = base + this.f64[(this.slot + INSTRET) >> 3]!;
    return base;
  }

  /** After that JS code: the count as exit() expects it, the flag record back into the arena. */
  private callBack(base: number): void {
    this.cpu.instret = base;
    this.flagsIn();
  }

  /** Steps from one block to the next the chain took inside wasm (modulo 2^32; tests and probes). */
  get chainSteps(): number {
    return this.i32[(this.slot + CHAIN_STEPS) >> 2]! >>> 0;
  }

  /**
   * The block the chain ran last, the count (from the chain's start) it began at, and (after
   * CHAIN_SETTLE) what it returned. block is undefined only where no block ran since the table
   * started over (a throw before the chain's first call).
   */
  lastRun(): { block: Block | undefined; start: number; result: number } {
    const i = this.i32, s = this.slot;
    return { block: this.tableBlocks[i[(s + CURRENT) >> 2]!]!, start: this.f64[(s + CURRENT_START) >> 3]!, result: i[(s + LAST_RESULT) >> 2]! };
  }

  /** Empties the jump cache: codeGen -1 matches no entry (codeGen counts up from 0). */
  private clearJumps(): void {
    const from = (this.slot + JUMP) >> 2, to = (this.slot + JUMP + JUMP_BYTES) >> 2;
    this.i32.fill(0, from, to);
    for (let k = from; k < to; k += JUMP_ENTRY_BYTES >> 2) this.i32[k + 2] = -1;
  }

  /** Puts block in the table (starting the table over when full). */
  private place(block: Block, w: WasmBlock): void {
    if (this.tableBlocks.length >= TABLE_MAX) {
      for (const b of this.tableBlocks) b.wasm!.index = -1;
      this.tableBlocks.length = 0;
      this.clearJumps(); // no entry may name an index given out again
    }
    w.index = this.tableBlocks.length;
    this.tableBlocks.push(block);
    if (this.table.length <= w.index) this.table.grow(Math.max(64, this.table.length));
    this.table.set(w.index, w.run);
  }

  /** The CPU object's flag record and counters into the arena (before wasm runs). */
  flagsIn(): void {
    const c = this.cpu, i = this.i32, s = this.slot;
    const a = c.lfA, ah = c.lfAh, b = c.lfB, bh = c.lfBh, r = c.lfR, rh = c.lfRh;
    if (((a | 0) !== a) || ((ah | 0) !== ah) || ((b | 0) !== b) || ((bh | 0) !== bh) || ((r | 0) !== r) || ((rh | 0) !== rh)) {
      throw new Error(`wasm tier: a flag record field is not an int32 (${[a, ah, b, bh, r, rh].join(' ')})`);
    }
    i[(s + FLAG_BITS) >> 2] = c.flagBits; i[(s + LF_OP) >> 2] = c.lfOp; i[(s + CODE_GEN) >> 2] = c.codeGen;
    i[(s + LF_A) >> 2] = a; i[(s + LF_AH) >> 2] = ah; i[(s + LF_B) >> 2] = b; i[(s + LF_BH) >> 2] = bh;
    i[(s + LF_R) >> 2] = r; i[(s + LF_RH) >> 2] = rh;
  }

  /** The arena's flag record back into the CPU object (after wasm ran, or before it calls JS). */
  flagsOut(): void {
    const c = this.cpu, i = this.i32, s = this.slot;
    c.flagBits = i[(s + FLAG_BITS) >> 2]!; c.lfOp = i[(s + LF_OP) >> 2]!;
    c.lfA = i[(s + LF_A) >> 2]!; c.lfAh = i[(s + LF_AH) >> 2]!; c.lfB = i[(s + LF_B) >> 2]!; c.lfBh = i[(s + LF_BH) >> 2]!;
    c.lfR = i[(s + LF_R) >> 2]!; c.lfRh = i[(s + LF_RH) >> 2]!;
  }

  /** The arena's copy of the scratch objects into the objects (before a helper that may read them). */
  private scratchOut(): void {
    for (const list of this.scratchOf.values()) for (const x of list) x.obj[x.field] = this.i32[x.at]!;
  }

  /** The scratch objects into the arena (after a helper that may have written them). */
  private scratchIn(): void {
    for (const list of this.scratchOf.values()) for (const x of list) this.i32[x.at] = scratchWord(x);
  }

  /**
   * Blocks waiting to be compiled together (queue) with the names their functions get (the
   * linear address they were queued at: profiles name guest code), and cpu.instret when the
   * first came.
   */
  private readonly pending: { block: Block; name: string }[] = [];
  private pendingSince = 0;

  /** Queues block (about to run at RIP) for the next batch; compiles the batch once it has WASM_BATCH blocks. */
  queue(block: Block): void {
    if (this.pending.length === 0) this.pendingSince = this.cpu.instret;
    this.pending.push({ block, name: `guest_${this.linearName()}` });
    if (this.pending.length >= WASM_BATCH.size) this.flush();
  }

  /** RIP's linear address as 16 hex digits (64-bit code: as the guest writes it, e.g. ffffffff81000000). */
  private linearName(): string {
    const c = this.cpu;
    if (c.mode !== 64) return c.fetchLinear().toString(16).padStart(16, '0');
    const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
    return hex(c.regs[RIP_LO + 1]!) + hex(c.regs[RIP_LO]!);
  }

  /** Compiles the queued blocks once the first has waited WASM_BATCH.wait instructions. */
  flushIfDue(): void {
    if (this.pending.length !== 0 && this.cpu.instret - this.pendingSince >= WASM_BATCH.wait) this.flush();
  }

  /**
   * Compiles the queued blocks as one module (one function each): block.fn and block.wasm for
   * each the translator takes and no other tier compiled meanwhile.
   */
  private flush(): void {
    const queued = this.pending.splice(0), blocks = queued.map((q) => q.block);
    const pages = this.memory.buffer.byteLength / 65536;
    const t = translateFunctions(queued.map(({ block: b, name }) => {
      const env: Record<string, Binding> = { ...this.env };
      for (let k = 0; k < b.insns.length; k++) {
        env[`f${k}`] = { kind: 'import', name: `f${k}`, result: 'bool' };
        env[`I${k}`] = { kind: 'object', fields: {} };
      }
      // k, the instructions retired, is at most the budget (an int32): block-compile.ts's contract.
      return { source: blockFunctionText(b.insns, false), options: { env, result: 'i32', memory: { min: pages, max: pages, shared: true }, int32Vars: ['k'] }, name };
    }));
    if (!t.translated.includes(true)) return;
    const imports: Record<string, unknown> = { memory: this.memory };
    t.imports.forEach((uses, k) => {
      const b = blocks[k]!;
      for (const use of uses ?? []) imports[`${k}.${use.key}`] = this.importFor(use, b.insns, allClosures(b));
    });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(t.bytes), { env: imports }).exports;
    blocks.forEach((b, k) => {
      if (!t.translated[k] || b.fn !== undefined) return;
      const run = exports[`run${k}`] as (budget: number) => number;
      b.fn = this.blockFn(run);
      b.wasm = { run, index: -1 };
    });
  }

  /** A wasm block's function as a BlockFn: the flag record and counters in and out around one call. */
  private blockFn(run: (budget: number) => number): BlockFn {
    return (_: SoftCpu, budget: number): number => {
      this.enter();
      try {
        return run(budget);
      } finally {
        this.exit();
      }
    };
  }

  /** The JS function behind one import of a block module. */
  private importFor(use: ImportUse, insns: readonly Instruction[], fns: readonly Compiled[]): (...args: number[]) => unknown {
    const cpu = this.cpu;
    const object = (name: string | undefined): unknown => {
      if (name === 'cpu') return cpu;
      if (name !== undefined && /^I\d+$/.test(name)) return insns[Number(name.slice(1))];
      throw new Error(`wasm tier: no object ${name} for ${use.key}`);
    };
    if (use.key === 'flags') return () => { this.flagsOut(); const v = cpu.flags; this.flagsIn(); return v; };
    const closure = /^f(\d+)$/.exec(use.name);
    if (closure) {
      // A closure may read and write anything: the flag record both ways, decoded code (codeGen),
      // the retired count (callOut).
      const fn = fns[Number(closure[1])]!;
      const leave = (this.slot + LEAVE) >> 2;
      return () => {
        const base = this.callOut();
        try {
          return fn(cpu);
        } finally {
          this.callBack(base);
          // What the run loop checks between blocks, besides flagBits (which the chain reads).
          if (cpu.halted || cpu.pendingTprExit || cpu.repBudget <= 0 || cpu.intShadow) this.i32[leave] = 1;
        }
      };
    }
    const helper = (BLOCK_HELPERS as Record<string, unknown>)[use.name] as (...a: unknown[]) => unknown;
    const call = bindObjects(helper, use.objects.map((name) => (name === undefined ? NUMBER : object(name))));
    // A helper given the CPU may read or write its flag record and read the retired count (callOut).
    const flags = use.objects.includes('cpu');
    const written = this.scratchOf.get(WRITES_SCRATCH[use.name] ?? {});
    const i = this.i32;
    if (written === undefined && !SCRATCH_FREE.has(use.name)) {
      return (a, b, c, d, e) => {
        this.scratchOut();
        const base = flags ? this.callOut() : 0;
        try { return call(a, b, c, d, e); } finally { if (flags) this.callBack(base); this.scratchIn(); }
      };
    }
    if (flags) return (a, b, c, d, e) => { const base = this.callOut(); try { return call(a, b, c, d, e); } finally { this.callBack(base); } };
    if (written !== undefined) return (a, b, c, d, e) => { const r = call(a, b, c, d, e); for (const x of written) i[x.at] = scratchWord(x); return r; };
    return call;
  }
}

/** A scratch object field's value as the arena's int32 slot holds it (anything else is a tier bug). */
function scratchWord(x: { obj: Record<string, number>; field: string }): number {
  const v = x.obj[x.field]!;
  if ((v | 0) !== v) throw new Error(`wasm tier: scratch field ${x.field} holds ${v}, not an int32`);
  return v;
}

/** Where a helper call's argument is a number the wasm call passes. */
const NUMBER = Symbol('number argument');

/** Numbers pass through wasm calls; helpers take at most 5 of them. */
type NumberCall = (a?: number, b?: number, c?: number, d?: number, e?: number) => unknown;

/**
 * helper with its object arguments (fixed[i], or NUMBER for a number the wasm call passes) put
 * back, without building an argument array per call for the usual shapes.
 */
function bindObjects(helper: (...a: unknown[]) => unknown, fixed: readonly unknown[]): NumberCall {
  const numbers = fixed.filter((o) => o === NUMBER).length;
  if (numbers > 5) throw new Error('wasm tier: a helper with more than 5 number arguments');
  const lead = fixed.findIndex((o) => o === NUMBER);
  const objectsFirst = lead < 0 || fixed.slice(lead).every((o) => o === NUMBER);
  const n = lead < 0 ? fixed.length : lead;
  if (objectsFirst && n === 0) return (a, b, c, d, e) => helper(a, b, c, d, e);
  if (objectsFirst && n === 1) { const o = fixed[0]; return (a, b, c, d, e) => helper(o, a, b, c, d, e); }
  if (objectsFirst && n === 2) { const o = fixed[0], p = fixed[1]; return (a, b, c, d, e) => helper(o, p, a, b, c, d, e); }
  return (...args) => {
    const full: unknown[] = [];
    let k = 0;
    for (const o of fixed) full.push(o === NUMBER ? args[k++] : o);
    return helper(...full);
  };
}

/** The vCPU's wasm state, made on first use; undefined where its RAM is not a wasm memory or no arena slot is left. */
export function wasmCpuOf(cpu: SoftCpu): WasmCpu | undefined {
  // Blocks reach only the memory their arena is in: the largest mapped one (the guest's RAM).
  let best: PhysRegion | undefined;
  for (const r of cpu.phys.regions) if (best === undefined || r.size > best.size) best = r;
  const ram = best && wasmRamOf(best.memory.bytes.buffer);
  const slot = ram && takeArenaSlot(ram);
  return ram === undefined || slot === undefined ? undefined : new WasmCpu(cpu, ram.memory, slot);
}

/**
 * Runs of a block before it is compiled to wasm (a block the translator refuses waits for
 * HOT_BLOCK_RUNS and the JS tier). Off by default: the Linux boot to `Run /init` (in-thread)
 * takes 27-30 s of CPU with N = 2000, 31 s with 4000 and 36 s with 1000, against 25-27 s with
 * the JS tier alone in the same hour. Chained wasm blocks run a short-block chain (P8) in 21-22
 * ns per block against the JS tier's 28-31, and a bignum loop (P6) at 584 MIPS against 625; what
 * the boot loses is translating ~2500 blocks (2.9 s of the main thread: parsing the block's
 * text is most of it) and the engine compiling the translator itself.
 */
export let WASM_BLOCK_RUNS = wasmRunsFromEnv(typeof process !== 'undefined' ? process.env['TSVISOR_SOFT_WASM'] : undefined);

/** TSVISOR_SOFT_WASM: unset or 0, no wasm tier; N > 0, blocks compile to wasm after N runs. */
function wasmRunsFromEnv(v: string | undefined): number {
  const n = v === undefined ? 0 : Number(v);
  return Number.isInteger(n) && n > 0 ? n : Infinity;
}

/** Sets WASM_BLOCK_RUNS for CPUs made from now on (tests; Infinity: no wasm tier). */
export function setWasmBlockRuns(n: number): void {
  WASM_BLOCK_RUNS = n;
}

/**
 * Queues block for the wasm tier (WasmCpu.queue): it gets block.fn and block.wasm when its batch
 * compiles, or neither (no wasm memory or arena slot, or a text the translator refuses).
 */
export function compileWasmBlock(cpu: SoftCpu, block: Block): void {
  if (cpu.wasm === undefined) cpu.wasm = wasmCpuOf(cpu) ?? null;
  cpu.wasm?.queue(block);
}

/**
 * Blocks compiled together into one module (size), and the instructions the first queued block
 * waits at most for the others (wait). One module per block put every block's code in pages of
 * its own: P8's chained blocks spent ~40% of their time entering each function (instruction TLB
 * misses), where the JS tier's functions share the engine's code pages.
 */
export const WASM_BATCH = { size: 32, wait: 1_000_000 };

/** Sets WASM_BATCH (tests compile small batches soon). */
export function setWasmBatch(size: number, wait: number): void {
  WASM_BATCH.size = size;
  WASM_BATCH.wait = wait;
}

