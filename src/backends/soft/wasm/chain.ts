/**
 * The wasm tier's chain: compiled wasm blocks run one after another inside wasm, the way QEMU
 * chains translated blocks, instead of each returning to the JS run loop (run.ts) for the next.
 * Every return to JS costs a crossing of the engine's JS/wasm boundary and the flag record's copy
 * out of the arena and back (block-wasm.ts); a Linux boot's compiled blocks retire ~5
 * instructions per call.
 *
 * The blocks sit in a table of functions, each (budget) -> retired as a block function's
 * contract says (block-compile.ts). After a block ran to its end, the chain looks the new RIP up
 * in a direct-mapped jump cache in the vCPU's arena slot, which the JS side fills as it enters
 * wasm blocks (the key as cpu.ts's jump cache: linear address, codeGen, CPL; 64-bit code only,
 * where the linear address is RIP), and calls the block it names if the budget holds it. It
 * returns to JS at the first miss, at a run that ended anywhere but a block's end (a decline, a
 * stop after dropped code, a loop's last partial pass), when decoded code was dropped (codeGen
 * moved), when a flag the run loop stops for is set, or when a call into JS asked to leave.
 */
import { Code, I32, ModuleBuilder, OP, VOID } from './encoder.js';

/** Jump cache entries (a power of two) and their size: lo, hi, codeGen, cpl, index, count. */
export const JUMP_ENTRIES = 1024;
export const JUMP_ENTRY_BYTES = 32;
export const JUMP_BYTES = JUMP_ENTRIES * JUMP_ENTRY_BYTES;

/** Byte addresses (absolute, in the memory) of the arena slots the chain reads and writes. */
export interface ChainSlots {
  /** RIP's low and high halves (the register file's RIP_LO, RIP_LO + 1). */
  rip: number;
  codeGen: number;
  cpl: number;
  flagBits: number;
  /** The f64 count blocks add what they retire to. */
  instret: number;
  /** Out: the table index of the block running or last run. */
  current: number;
  /** Out: the instret slot's value when that block began (f64). */
  currentStart: number;
  /** Set (non-zero) by JS code a block calls when the run loop must look before the next block. */
  leave: number;
  /** Out: what the last block returned, when the chain returned CHAIN_SETTLE. */
  lastResult: number;
  /** The jump cache: JUMP_ENTRIES entries of JUMP_ENTRY_BYTES. */
  jump: number;
  /** Counts the steps from one block to the next taken inside the chain (i32, wrapping). */
  steps: number;
}

/** chain()'s results: the last block ran to its end (RIP is where the next starts). */
export const CHAIN_ENDED = 0;
/** The last block returned lastResult other than a whole number of passes: the run loop settles it. */
export const CHAIN_SETTLE = 1;

/**
 * The chain's module: imports env.memory and env.table (of block functions), exports
 * chain(index, budget, count, stopBits) -> CHAIN_ENDED | CHAIN_SETTLE, which runs table[index]
 * (a block of count instructions, count <= budget) and what follows it, at most budget
 * instructions in all, and leaves after a block whose run set one of stopBits in flagBits.
 */
export function chainModule(s: ChainSlots, memory: { pages: number }): Uint8Array {
  const mod = new ModuleBuilder();
  mod.importMemory('env', 'memory', memory.pages, memory.pages, true);
  mod.importTable('env', 'table', 0);
  const blockType = mod.type([I32], [I32]);
  // Parameters 0-3, then locals: left, gen, r, entry.
  const INDEX = 0, BUDGET = 1, COUNT = 2, STOP = 3, LEFT = 4, GEN = 5, R = 6, E = 7;
  const c = new Code();
  const get = (l: number): Code => c.op(OP.localGet).u32(l);
  const set = (l: number): Code => c.op(OP.localSet).u32(l);
  const load = (addr: number): Code => c.i32Const(addr).mem(OP.i32Load, 2);
  const ended = (): Code => c.i32Const(CHAIN_ENDED).op(OP.return);
  c.i32Const(s.codeGen).mem(OP.i32Load, 2); set(GEN);
  get(BUDGET); set(LEFT);
  c.op(OP.loop, VOID);
  {
    // Which block runs, and the count before it: how the run loop attributes a fault.
    c.i32Const(s.current); get(INDEX); c.mem(OP.i32Store, 2);
    c.i32Const(s.currentStart).i32Const(s.instret).mem(OP.f64Load, 3).mem(OP.f64Store, 3);
    get(LEFT); get(INDEX); c.op(OP.callIndirect).u32(blockType).u32(0); set(R);
    // Anything but whole passes (r > 0, a multiple of count) is the run loop's to settle.
    get(R); get(COUNT); c.op(OP.i32Ne);
    c.op(OP.if, VOID);
    {
      get(R); c.i32Const(0).op(OP.i32LeS);
      get(R); get(COUNT); c.op(OP.i32RemU, OP.i32Or);
      c.op(OP.if, VOID);
      c.i32Const(s.lastResult); get(R); c.mem(OP.i32Store, 2);
      c.i32Const(CHAIN_SETTLE).op(OP.return);
      c.op(OP.end);
    }
    c.op(OP.end);
    get(LEFT); get(R); c.op(OP.i32Sub); set(LEFT);
    // What the run loop looks at after each block.
    load(s.codeGen); get(GEN); c.op(OP.i32Ne, OP.if, VOID); ended(); c.op(OP.end);
    load(s.flagBits); get(STOP); c.op(OP.i32And, OP.if, VOID); ended(); c.op(OP.end);
    load(s.leave); c.op(OP.if, VOID); ended(); c.op(OP.end);
    // The jump cache entry for RIP: (lo ^ lo >>> 12) & (entries - 1), as cpu.ts's.
    load(s.rip); load(s.rip); c.i32Const(12).op(OP.i32ShrU, OP.i32Xor).i32Const(JUMP_ENTRIES - 1).op(OP.i32And);
    c.i32Const(Math.log2(JUMP_ENTRY_BYTES)).op(OP.i32Shl).i32Const(s.jump).op(OP.i32Add); set(E);
    const field = (off: number): Code => { get(E); return c.mem(OP.i32Load, 2, off); };
    field(0); load(s.rip); c.op(OP.i32Ne);
    field(4); load(s.rip + 4); c.op(OP.i32Ne, OP.i32Or);
    field(8); get(GEN); c.op(OP.i32Ne, OP.i32Or);
    field(12); load(s.cpl); c.op(OP.i32Ne, OP.i32Or);
    c.op(OP.if, VOID); ended(); c.op(OP.end);
    field(20); set(COUNT);
    get(COUNT); get(LEFT); c.op(OP.i32GtS, OP.if, VOID); ended(); c.op(OP.end);
    field(16); set(INDEX);
    c.i32Const(s.steps); load(s.steps); c.i32Const(1).op(OP.i32Add).mem(OP.i32Store, 2);
    c.op(OP.br).u32(0);
  }
  c.op(OP.end);
  c.op(OP.unreachable);
  const chain = mod.define(mod.type([I32, I32, I32, I32], [I32]), [I32, I32, I32, I32], c);
  mod.export('chain', chain);
  return mod.bytes();
}
