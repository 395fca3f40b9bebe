/**
 * The soft CPU core: architectural state (state.ts) plus the memory pipeline the executor
 * sees through ExecContext: segmentation -> TLB (paging.ts on a miss) -> guest RAM, or a
 * MemoryExitSignal for guest-physical addresses without RAM. Also the instruction fetch with
 * a decoded-instruction cache per guest-physical page, invalidated by writes to that page.
 */
import { decode } from '../../x86/decoder/index.js';
import type { ExecContext } from '../../x86/exec/context.js';
import { RIP_LO as RIP_LO_, X86Fault } from '../../x86/exec/context.js';
import type { Instruction } from '../../x86/instruction.js';
import { endsBlock, type Compiled } from '../../x86/exec/compile.js';
import { encodeBlock, encoded } from './cold-code.js';
import { vectorRunsInBlock } from '../../x86/sse/index.js';
import { emptyClosures } from './block-closures.js';
import { HOT_BLOCK_RUNS, type BlockFn } from './block-compile.js';
import { REGIONS } from './region.js';
import { WASM_BLOCK_RUNS, type WasmBlock, type WasmCpu } from './wasm/block-wasm.js';
import { VmmError } from '../../api/errors.js';
import type { CpuidConf } from '../../api/types.js';
import type { PhysMemory } from './memory.js';
import type { IoCompletion } from './exit-completion.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, walk, type PagingHost } from './paging.js';
import { MemoryExitSignal } from './signals.js';
import type { CodeWatch } from './code-watch.js';
import { DecodedInstructions, keepUnchanged, newCodePage, RetiredPages, sameBytes, type CodePage, type CrossingInstruction } from './code-page.js';
import { LockedRmw } from './atomic-rmw.js';
import { F64_ZERO } from '../../x86/exec/lazy-flags.js';
import { ATTR_DEF as ATTR_DEF_, ATTR_L as ATTR_L_, CR0_PE as CR0_PE_, CpuState, EFER_LMA as EFER_LMA_, RFLAGS_VM as RFLAGS_VM_, withinLimit } from './state.js';
import { P_W_ANY as P_W_ANY_, P_RS as P_RS_, P_RU as P_RU_, P_WS as P_WS_, P_WU as P_WU_, P_XS as P_XS_, P_XU as P_XU_, TLB_MASK as TLB_MASK_, probeAt, slotOf, Tlb } from './tlb.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const P_W_ANY = P_W_ANY_, P_RS = P_RS_, P_RU = P_RU_, P_WS = P_WS_, P_WU = P_WU_, P_XS = P_XS_, P_XU = P_XU_, TLB_MASK = TLB_MASK_;
const ATTR_DEF = ATTR_DEF_, ATTR_L = ATTR_L_, CR0_PE = CR0_PE_, EFER_LMA = EFER_LMA_, RFLAGS_VM = RFLAGS_VM_;
const RIP_LO = RIP_LO_;

/**
 * A straight-line run of decoded instructions within one page, each compiled once
 * (src/x86/exec/compile.ts); only the last may branch or leave the executor's set.
 */
export interface Block {
  mode: 16 | 32 | 64;
  insns: Instruction[];
  /** The instructions' closures, made on first use (block-closures.ts closureAt, allClosures). */
  fns: (Compiled | undefined)[];
  /** Records to run it by before it is compiled (cold-code.ts; 64-bit blocks), from codeAt. */
  code: Int32Array | undefined;
  codeAt: number;
  /** insns.length, kept in the block: the run loop's compiled path then reads no array. */
  count: number;
  /** Offset of the last instruction's first byte from the block's start. */
  lastOffset: number;
  /** Bytes from the block's start to its end. */
  bytes: number;
  /** Times run through the one-at-a-time loop; at HOT_BLOCK_RUNS it gets fn. */
  runs: number;
  /** The block as one function (block-compile.ts), once hot. */
  fn: BlockFn | undefined;
  /**
   * When fn is a region's (region.ts: hot blocks of one page that branch to each other, run as
   * one function), the region's blocks, and this one's index there (fn's entry argument);
   * undefined when fn runs this block only.
   */
  region: Block[] | undefined;
  label: number;
  /** Offset of the block's first byte in its page. */
  off: number;
  /** The blocks decoded in its page, by offset (where a region finds its other blocks). */
  page: ReadonlyMap<number, Block>;
  /**
   * Successor links (nextBlock): the last two blocks that ran after this one and the RIP
   * (lo, hi) each started at; valid while cpu.codeGen === linkGen.
   */
  next0: Block | undefined; nextLo0: number; nextHi0: number;
  next1: Block | undefined; nextLo1: number; nextHi1: number;
  linkGen: number;
  /** The block's wasm function, when the wasm tier compiled it (wasm/block-wasm.ts, chain.ts). */
  wasm: WasmBlock | undefined;
}

/** Code pages retired by guest writes that are kept for when code runs there again. */
const RETIRED_PAGES = 256;

/** Most instructions in one block. */
const BLOCK_MAX = 64;

/** Entries of the jump cache (SoftCpu.jumpBlock), a power of two. */
const JUMP_CACHE = 4096;

const INTERPRET_DEFAULT = typeof process !== 'undefined' && process.env['TSVISOR_SOFT_INTERPRET'] === '1';

const TWO32 = 4294967296;
const CANON = 0x800000000000;
const SEG_SS = 2;

export class SoftCpu extends CpuState implements ExecContext, PagingHost {
  mode: 16 | 32 | 64 = 16;
  stackSize: 2 | 4 | 8 = 2;
  memHi = F64_ZERO;
  /** REP iterations left in the current run slice (run.ts refills it). */
  repBudget = 0;
  /**
   * Set by a region's function (block-compile.ts compileRegion) as it returns or throws: the
   * index of the region block it was in, and its retired count when that block began.
   */
  regionAt = 0;
  regionKb = 0;

  /** configureCpuid masks and exit leaves, per leaf. */
  readonly cpuidConf = new Map<number, CpuidConf>();
  /** configureTpr: exit after an instruction that changed CR8. */
  tprExitChanged = false;
  pendingTprExit = false;
  tscAux = 0;
  apicId = 0;
  /** Set with an IN/OUT exit; SoftVcpu finishes the instruction at its next run() or setState() (exit-completion.ts). */
  ioCompletion: IoCompletion | undefined = undefined;

  readonly tlb = new Tlb();
  /** Decoded instructions per guest-physical page, indexed by page offset. */
  readonly codeCache = new Map<number, CodePage>();
  /** Code pages guest writes retired lately (RETIRED_PAGES at most). */
  private readonly retiredCode = new RetiredPages(RETIRED_PAGES);
  /**
   * Exceptions delivered in a row with no instruction retired between them, and the retired
   * count when the row began (run.ts): a guest whose handler faults at once loops without
   * retiring, where neither a RunLimit nor guest time would ever end the run.
   */
  faultsInARow = 0;
  faultsAt = -1;
  /**
   * Code was fetched through a non-global translation since flushTlb last moved codeGen (so
   * links or the jump cache may name a block a MOV to CR3 unmaps).
   */
  private nonGlobalCode = true;
  /**
   * Bumped at each run() (unless host writes are announced): cached pages are re-checked against
   * guest RAM once per run.
   */
  private runEpoch = 0;
  /**
   * The host announces its writes to guest RAM (MachineOptions.hostWrites 'announced', through
   * hostWrotePage): a run's start keeps decoded code, links and the jump cache.
   */
  hostWritesAnnounced = false;
  private tlbGeneration = -1;
  private readonly fetchBuf = new Uint8Array(15);
  /**
   * Bumped whenever decoded code is dropped (a guest write to a code page, flushes): a block
   * runner stops after the instruction that did it.
   */
  codeGen = 0;

  /**
   * Execution tiers, for the differential tests (and for bisecting a tier bug in a real guest):
   * interpretOnly runs every instruction through fetch() and execute() one at a time, no blocks;
   * otherwise straight-line blocks run their per-instruction compiled forms, and a block that has
   * run hotBlockRuns times becomes one generated function (block-compile.ts). The environment
   * variable TSVISOR_SOFT_INTERPRET=1 makes every new CPU interpret only.
   */
  interpretOnly = INTERPRET_DEFAULT;
  hotBlockRuns = HOT_BLOCK_RUNS;
  /** A hot block takes the hot blocks of its page it branches to into its function (region.ts). */
  regions = REGIONS;
  /** Runs before a block is compiled to wasm (wasm/block-wasm.ts). */
  wasmBlockRuns = WASM_BLOCK_RUNS;
  /** Runs from which the run loop offers a block to the compiling tiers (run.ts compileHot). */
  get compileAt(): number {
    return this.wasmBlockRuns < this.hotBlockRuns ? this.wasmBlockRuns : this.hotBlockRuns;
  }
  /** The vCPU's wasm state: undefined until a block first tries the wasm tier, null where it cannot. */
  wasm: WasmCpu | null | undefined = undefined;

  /** On a shared machine: the pages other threads' vCPUs cache code in (code-watch.ts). */
  private readonly watch: CodeWatch | undefined;
  /** The watch's epoch this CPU last acted on. */
  private watchSeen = 0;
  /** The slow write in progress hit a page another vCPU caches code in: bump the epoch once its bytes are in. */
  private codeWritten = false;
  /** On a shared machine: locked instructions made atomic across threads (atomic-rmw.ts). */
  readonly locked: LockedRmw | undefined;
  /** 'host' TSC: process.hrtime origin (ns) the TSC counts from, the same for every vCPU of the machine. */
  private readonly hostTscBase: bigint | undefined;

  constructor(readonly phys: PhysMemory, shared?: { watch: CodeWatch; mutex: SharedArrayBuffer }, hostTscBase?: bigint) {
    super();
    this.watch = shared?.watch;
    this.locked = shared && new LockedRmw(this, shared.mutex);
    this.hostTscBase = hostTscBase;
    this.updateMode();
  }

  // ---- TSC ----------------------------------------------------------------------------------

  /** The TSC now: tscOffset + instructions retired, or + host nanoseconds on a 'host' TSC machine. */
  tsc(): number {
    return this.tscAfter(0);
  }

  /** The TSC with `pending` instructions retired beyond instret (a compiled block's own count, not yet added). */
  tscAfter(pending: number): number {
    return this.tscOffset + (this.hostTscBase === undefined ? this.instret + pending : Number(process.hrtime.bigint() - this.hostTscBase));
  }

  setTsc(value: number): void {
    this.tscOffset = value - (this.tsc() - this.tscOffset);
  }

  // ---- modes -------------------------------------------------------------------------------

  /** Recomputes mode/stackSize after CS, SS, CR0, EFER or RFLAGS.VM changed. */
  updateMode(): void {
    const csAttr = this.segAttr[1]!;
    if ((this.efer & EFER_LMA) && (csAttr & ATTR_L)) this.mode = 64;
    else this.mode = csAttr & ATTR_DEF ? 32 : 16;
    if (!(this.cr0 & CR0_PE)) this.cpl = 0;
    else if (this.flags & RFLAGS_VM) this.cpl = 3;
    this.stackSize = this.mode === 64 ? 8 : this.segAttr[SEG_SS]! & ATTR_DEF ? 4 : 2;
    this.lastFetchLin = NaN;
    this.refreshSegments();
  }

  /**
   * Largest offset (access end) each data-segment slot allows for reads/writes on the fast path
   * (-1: always take the checking path). Recomputed whenever a segment, CR0 or the mode changes.
   */
  segReadMax: Float64Array<ArrayBufferLike> = new Float64Array(6);
  segWriteMax: Float64Array<ArrayBufferLike> = new Float64Array(6);

  refreshSegments(): void {
    const checked = (this.cr0 & CR0_PE) !== 0 && !(this.flags & RFLAGS_VM);
    for (let s = 0; s < 6; s++) {
      const attr = this.segAttr[s]!, limit = this.segLimit[s]!;
      if (!checked) { this.segReadMax[s] = limit; this.segWriteMax[s] = limit; continue; }
      const type = attr & 0xf;
      const usable = (attr & 0x80) !== 0 && (type & 0xc) !== 4; // present, not expand-down data
      this.segReadMax[s] = usable && (type & 0xa) !== 8 ? limit : -1;
      this.segWriteMax[s] = usable && !(type & 8) && (type & 2) !== 0 ? limit : -1;
    }
  }

  isCodePage(physPage: number): boolean {
    return this.codeCache.has(physPage) || (this.watch !== undefined && this.watch.cached(physPage));
  }

  /**
   * A write to a page with decoded code: the page is no longer a code page (writes to it go
   * the fast way), and what was decoded there is checked against its bytes when code runs there
   * again (code-page.ts).
   */
  private dropCodePage(physPage: number): void {
    const cp = this.codeCache.get(physPage);
    if (cp === undefined) return;
    this.codeCache.delete(physPage);
    this.retiredCode.add(physPage, cp);
    this.watch?.leave(physPage);
  }

  private dropAllCode(): void {
    if (this.watch !== undefined) for (const page of this.codeCache.keys()) this.watch.leave(page);
    this.codeCache.clear();
    this.retiredCode.clear();
  }

  /**
   * On a shared machine, after another vCPU cached a new code page or wrote one: revoke write
   * rights to pages now cached anywhere, and re-validate this CPU's code pages against guest RAM
   * at their next use (links between blocks are dropped, so every page is entered again).
   */
  syncCode(): void {
    const w = this.watch;
    if (w === undefined) return;
    const epoch = w.epoch;
    if (epoch === this.watchSeen) return;
    this.watchSeen = epoch;
    const t = this.tlb;
    for (let i = 0; i <= TLB_MASK; i++) {
      if ((t.perm[i]! & P_W_ANY) !== 0 && t.tag[i] === t.tag[i] && w.cached(t.phys[i]!)) t.revokeWrites(t.phys[i]!);
    }
    this.runEpoch++;
    this.lastFetchLin = NaN;
    this.codeGen++;
  }

  /**
   * The host wrote guest page physPage (between runs, this thread): as after a guest write to it,
   * what was decoded there is checked against RAM when code runs there again, and links (which
   * skip that check) are dropped.
   */
  hostWrotePage(physPage: number): void {
    if (!this.codeCache.has(physPage)) return;
    this.dropCodePage(physPage);
    this.lastFetchLin = NaN;
    this.codeGen++;
  }

  /** After a write that went the slow way: if it wrote a page other vCPUs cache code in, tell them. */
  afterSlowWrite(): void {
    if (!this.codeWritten) return;
    this.codeWritten = false;
    this.watch!.bump();
  }

  /** ExecContext: a locked instruction; atomic across threads on a shared machine. */
  atomically(run: (ctx: ExecContext) => boolean, wide: boolean): boolean {
    return this.locked === undefined ? run(this) : this.locked.run(run, wide);
  }

  /** The host bytes behind a writable, naturally aligned access (atomic-rmw.ts). */
  writableBytes(lin: number, size: number, user: boolean): { bytes: Uint8Array; offset: number } {
    const t = this.tlb;
    const i = (lin >>> 12) & TLB_MASK;
    if ((user ? t.writeU : t.writeS)[i] === lin - (lin & (4096 - size))) return { bytes: t.ram8, offset: t.at[i]! + (lin & 0xfff) };
    const j = this.slot(lin, ACCESS_WRITE, user, size);
    return { bytes: t.bytes[j]!, offset: t.base[j]! + (lin & 0xfff) };
  }

  /**
   * Drops cached translations when paging state or the guest-physical map changed; the global
   * ones only with global (a MOV to CR3 keeps them).
   */
  flushTlb(global = true): void {
    if (global) this.tlb.flush();
    else this.tlb.flushNonGlobal();
    this.lastFetchLin = NaN;
    // Links and the jump cache name blocks by linear address. A MOV to CR3 keeps the global
    // translations, so blocks fetched through them stay what those addresses run (Linux switches
    // address spaces ~18,000 times before init while running only its global kernel text).
    if (global || this.nonGlobalCode) {
      this.codeGen++;
      this.nonGlobalCode = false;
    }
  }

  /**
   * Called as run() starts: guest RAM may have been written by the host since the last run, so
   * each cached code page is compared with its snapshot on its first use in this run (unless the
   * host announces its writes: hostWrotePage did what they need).
   */
  beginRun(): void {
    // A map/unmap since the last run drops the TLB here (the probe does not look at the map).
    this.checkPhysGeneration();
    this.syncCode();
    if (this.hostWritesAnnounced) return;
    this.runEpoch++;
    this.lastFetchLin = NaN;
    // Block links skip the page check: the first block on each page re-validates it this run.
    this.codeGen++;
  }

  /** Drops every cached decoded instruction (state loads that change how code decodes). */
  flushCode(): void {
    this.dropAllCode();
    this.lastFetchLin = NaN;
    this.codeGen++;
  }

  private checkPhysGeneration(): void {
    if (this.tlbGeneration !== this.phys.generation) {
      this.tlbGeneration = this.phys.generation;
      this.tlb.useMemory(this.phys.mainViews());
      this.flushTlb();
      this.flushCode();
    }
  }

  // ---- segmentation --------------------------------------------------------------------------

  /** Effective address -> linear address, with the limit and type checks of the mode. */
  linear(seg: number, addr: number, size: number, write: boolean): number {
    if (this.mode !== 64) {
      const lin = withinLimit(write ? this.segWriteMax[seg]! : this.segReadMax[seg]!, this.segBase[seg]!, addr, size);
      return lin >= 0 ? lin : this.linearChecked(seg, addr, size, write);
    }
    const lin = seg >= 4 ? addr + this.segBase[seg]! : addr;
    if (lin >= CANON || lin < -CANON) {
      throw new X86Fault(seg === SEG_SS ? 12 : 13, 0, `non-canonical address 0x${lin.toString(16)}`);
    }
    return lin;
  }

  /** The legacy-mode path with every check, for what the fast limits do not cover. */
  private linearChecked(seg: number, addr: number, size: number, write: boolean): number {
    if (this.mode === 64) {
      const lin = seg >= 4 ? addr + this.segBase[seg]! : addr;
      if (lin >= CANON || lin < -CANON) {
        throw new X86Fault(seg === SEG_SS ? 12 : 13, 0, `non-canonical address 0x${lin.toString(16)}`);
      }
      return lin;
    }
    const attr = this.segAttr[seg]!;
    const limit = this.segLimit[seg]!;
    if (this.cr0 & CR0_PE && !(this.flags & RFLAGS_VM)) {
      if (!(attr & 0x80)) throw new X86Fault(seg === SEG_SS ? 12 : 13, 0, `access through null segment ${seg}`);
      const type = attr & 0xf;
      if (write ? (type & 8) || !(type & 2) : (type & 0xa) === 8) {
        throw new X86Fault(seg === SEG_SS ? 12 : 13, 0, `segment ${seg} type ${type} forbids ${write ? 'write' : 'read'}`);
      }
      if ((type & 0xc) === 4) { // expand-down data
        const top = attr & ATTR_DEF ? 0xffffffff : 0xffff;
        if (addr <= limit || addr + size - 1 > top) {
          throw new X86Fault(seg === SEG_SS ? 12 : 13, 0, `offset 0x${addr.toString(16)} outside expand-down segment ${seg}`);
        }
        return (this.segBase[seg]! + addr) >>> 0;
      }
    }
    if (addr + size - 1 > limit) {
      throw new X86Fault(seg === SEG_SS ? 12 : 13, 0, `offset 0x${addr.toString(16)} beyond limit 0x${limit.toString(16)} of segment ${seg}`);
    }
    return (this.segBase[seg]! + addr) >>> 0;
  }

  // ---- ExecContext memory ----------------------------------------------------------------

  read(seg: number, addr: number, size: 1 | 2 | 4 | 8): number {
    const l = this.locked;
    if (l !== undefined && l.running) return l.read(this.linear(seg, addr, size, false), size, this.cpl === 3);
    return this.readLin(this.linear(seg, addr, size, false), size, this.cpl === 3);
  }

  write(seg: number, addr: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
    const l = this.locked;
    if (l !== undefined && l.running) l.write(this.linear(seg, addr, size, true), size, lo, hi, this.cpl === 3);
    else this.writeLin(this.linear(seg, addr, size, true), size, lo, hi, this.cpl === 3);
  }

  /**
   * ExecContext.bulkView: served only where the TLB already grants this access to the page (RAM
   * mapped with this right: never MMIO, and a write never reaches a page holding decoded code,
   * whose write right the TLB withholds) and, in legacy modes, the segment's fast limit covers
   * every byte. Anything else takes the one-element path, which walks, faults or exits.
   */
  bulkView(seg: number, addr: number, max: number, write: boolean): Uint8Array | undefined {
    if (this.locked !== undefined && this.locked.running) return undefined;
    let lin: number;
    const segMax = write ? this.segWriteMax[seg]! : this.segReadMax[seg]!;
    if (this.mode === 64) lin = seg >= 4 ? addr + this.segBase[seg]! : addr;
    else if ((lin = withinLimit(segMax, this.segBase[seg]!, addr, 1)) < 0) return undefined;
    const bytes = Math.min(max, 4096 - (lin & 0xfff));
    if (this.mode !== 64 && withinLimit(segMax, this.segBase[seg]!, addr, bytes) < 0) return undefined;
    const t = this.tlb, i = slotOf(lin), user = this.cpl === 3;
    // A non-canonical lin matches no tag: only successful walks fill the TLB.
    const o = probeAt(write ? (user ? t.writeU : t.writeS) : (user ? t.readU : t.readS), t.at, i, lin, 1);
    return o >= 0 ? t.ram8.subarray(o, o + bytes) : undefined;
  }

  /**
   * Reads at a linear address; user: the access is checked as CPL3 (else supervisor). The fast
   * path is one compare (tlb.ts: page, right and natural alignment at once) and one typed load.
   * Sizes 4 and 8 return int32 halves (the high half in memHi), 1 and 2 unsigned values.
   */
  readLin(lin: number, size: number, user: boolean): number {
    const t = this.tlb;
    const i = slotOf(lin);
    // The page's host offset plus the offset in it: < 2^32 (guest RAM is at most 4 GiB).
    const o = probeAt(user ? t.readU : t.readS, t.at, i, lin, size);
    if (o >= 0) return this.ramLoad(o, size);
    return this.readSlow(lin, size, user);
  }

  /** A naturally aligned access's load at byte offset o of the ram views (a probe hit); 8 bytes: the high half in memHi. */
  ramLoad(o: number, size: number): number {
    const t = this.tlb;
    switch (size) {
      case 4: return t.ram32[o >>> 2]!;
      case 1: return t.ram8[o]!;
      case 2: return t.ram16[o >>> 1]!;
      default: {
        const w = t.ram32, k = o >>> 2;
        this.memHi = w[k + 1]!;
        return w[k]!;
      }
    }
  }

  /** The same for a store of (lo, hi). */
  ramStore(o: number, size: number, lo: number, hi: number): void {
    const t = this.tlb;
    switch (size) {
      case 4: t.ram32[o >>> 2] = lo; return;
      case 1: t.ram8[o] = lo; return;
      case 2: t.ram16[o >>> 1] = lo; return;
      default: {
        const w = t.ram32, k = o >>> 2;
        w[k] = lo; w[k + 1] = hi;
      }
    }
  }

  writeLin(lin: number, size: number, lo: number, hi: number, user: boolean): void {
    const t = this.tlb;
    const i = slotOf(lin);
    const o = probeAt(user ? t.writeU : t.writeS, t.at, i, lin, size);
    if (o >= 0) this.ramStore(o, size, lo, hi);
    else this.writeSlow(lin, size, lo, hi, user);
  }

  /** TLB slot for the page holding lin, walking on a miss or missing right. */
  private slot(lin: number, access: 0 | 1 | 2, user: boolean, size: number): number {
    this.checkPhysGeneration();
    const page = Math.floor(lin / 4096);
    const i = page & TLB_MASK;
    const need = access === ACCESS_READ ? (user ? P_RU : P_RS)
      : access === ACCESS_WRITE ? (user ? P_WU : P_WS) : (user ? P_XU : P_XS);
    const t = this.tlb;
    if (t.tag[i] === page && (t.perm[i]! & need)) return i;
    walk(this, lin, access, user, size);
    if (t.perm[i]! & need) return i;
    if (access !== ACCESS_WRITE) {
      // Not guest-reachable: a walk that succeeds grants the read or fetch right it was asked
      // for (it faults otherwise). A bug if seen; run() reports it as an 'invalid' exit.
      const right = access === ACCESS_READ ? 'read' : 'fetch';
      throw new VmmError('EIO', `soft: page walk of linear 0x${lin.toString(16)} (${user ? 'user' : 'supervisor'}) granted no ${right} right`);
    }
    // A write the walk allowed but the TLB withholds: read-only RAM, or a page with cached code.
    const physPage = t.phys[i]!;
    const region = this.phys.find(physPage * 4096)!;
    if (!region.writable) {
      throw new MemoryExitSignal(physPage * 4096 + (lin & 0xfff), true, size, 'w');
    }
    this.dropCodePage(physPage);
    if (this.watch !== undefined && this.watch.cached(physPage)) this.codeWritten = true;
    this.lastFetchLin = NaN;
    this.codeGen++;
    walk(this, lin, access, user, size);
    return i;
  }

  /**
   * Everything the probe declines: a miss or missing right (slot walks, faults, exits), an
   * unaligned access (byte by byte in its page) or one that crosses a page (both pages checked
   * before any byte is read).
   */
  private readSlow(lin: number, size: number, user: boolean): number {
    const off = lin & 0xfff;
    let lo = 0, hi = 0;
    if (off + size <= 4096) {
      const i = this.slot(lin, ACCESS_READ, user, size);
      const b = this.tlb.bytes[i]!, o = this.tlb.base[i]! + off;
      for (let k = 0; k < size; k++) {
        if (k < 4) lo |= b[o + k]! << (8 * k); else hi |= b[o + k]! << (8 * (k - 4));
      }
    } else {
      this.slot(lin, ACCESS_READ, user, size);
      this.slot(lin + size - 1, ACCESS_READ, user, size);
      for (let k = 0; k < size; k++) {
        const i = this.slot(lin + k, ACCESS_READ, user, 1);
        const v = this.tlb.bytes[i]![this.tlb.base[i]! + ((lin + k) & 0xfff)]!;
        if (k < 4) lo |= v << (8 * k); else hi |= v << (8 * (k - 4));
      }
    }
    this.memHi = hi;
    return size === 4 || size === 8 ? lo | 0 : lo;
  }

  private writeSlow(lin: number, size: number, lo: number, hi: number, user: boolean): void {
    const off = lin & 0xfff;
    if (off + size <= 4096) {
      const i = this.slot(lin, ACCESS_WRITE, user, size);
      const b = this.tlb.bytes[i]!, o = this.tlb.base[i]! + off;
      for (let k = 0; k < size; k++) b[o + k] = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
      this.afterSlowWrite();
      return;
    }
    this.slot(lin, ACCESS_WRITE, user, size);
    this.slot(lin + size - 1, ACCESS_WRITE, user, size);
    for (let k = 0; k < size; k++) {
      const i = this.slot(lin + k, ACCESS_WRITE, user, 1);
      const v = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
      this.tlb.bytes[i]![this.tlb.base[i]! + ((lin + k) & 0xfff)] = v;
    }
    this.afterSlowWrite();
  }

  /** Supervisor (implicit) accesses: descriptor tables, TSS, interrupt stack frames. */
  readSys(lin: number, size: 1 | 2 | 4 | 8): number {
    return this.readLin(lin, size, false);
  }
  writeSys(lin: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
    this.writeLin(lin, size, lo, hi, false);
  }

  // ---- registers -------------------------------------------------------------------------

  /** RIP as a number (signed in long mode). */
  get rip(): number {
    return this.regs[RIP_LO + 1]! * TWO32 + (this.regs[RIP_LO]! >>> 0);
  }
  setRip(v: number): void {
    const hi = Math.floor(v / TWO32);
    this.regs[RIP_LO] = v - hi * TWO32;
    this.regs[RIP_LO + 1] = hi;
  }
  /** Register n as a number: low 32 bits unsigned plus the signed high half (exact < 2^53). */
  reg64(n: number): number {
    return this.regs[2 * n + 1]! * TWO32 + (this.regs[2 * n]! >>> 0);
  }
  setReg64(n: number, v: number): void {
    const hi = Math.floor(v / TWO32);
    this.regs[2 * n] = v - hi * TWO32;
    this.regs[2 * n + 1] = hi;
  }

  // ---- fetch ------------------------------------------------------------------------------

  /** Linear address of the page the fetch fast path serves (NaN: none). */
  private lastFetchLin = NaN;
  private lastFetchCache = new DecodedInstructions();
  private lastFetchBlocks = new Map<number, Block>();
  private lastFetchCrossing = new Map<number, CrossingInstruction>();
  /** The current page's snapshot (code-page.ts): what its instructions are decoded from. */
  private lastFetchBytes: Uint8Array = new Uint8Array(0);

  /**
   * 64-bit code: the blocks fetchBlock found lately, by linear address (a direct-mapped cache,
   * as QEMU's jump cache), for the steps block links miss: a RET back to one of many callers, an
   * indirect jump, a first step. An entry holds while nothing changed that fetchBlock checks:
   * decoded code, paging and the TLB all move codeGen, and the privilege (fetch permission) is
   * part of the tag. Mode and CS do not need to be: only 64-bit blocks go in, and 64-bit code
   * has no CS base or limit.
   */
  private readonly jumpLin = new Float64Array(JUMP_CACHE).fill(NaN);
  private readonly jumpGen = new Float64Array(JUMP_CACHE);
  private readonly jumpCpl = new Int8Array(JUMP_CACHE);
  private readonly jumpBlock: (Block | undefined)[] = new Array<Block | undefined>(JUMP_CACHE).fill(undefined);

  /** The linear address of the instruction at RIP (CS limit checked in legacy modes). */
  fetchLinear(): number {
    const lo = this.regs[RIP_LO]!;
    if (this.mode === 64) return this.regs[RIP_LO + 1]! * TWO32 + (lo >>> 0);
    const eip = lo >>> 0;
    if (eip > this.segLimit[1]!) throw new X86Fault(13, 0, `EIP 0x${eip.toString(16)} beyond CS limit`);
    return (this.segBase[1]! + eip) >>> 0;
  }

  /** After destroy: forgets every view of guest RAM (TLB entries, decoded pages, the fetch path). */
  dropMemoryReferences(): void {
    this.tlb.forgetMemory();
    this.dropAllCode();
    this.lastFetchBlocks.clear();
    this.lastFetchBytes = new Uint8Array(0);
    this.resetFetch();
  }

  /** Forgets the fetch fast path (after TLB flushes and code invalidation). */
  resetFetch(): void {
    this.lastFetchLin = NaN;
    this.codeGen++;
  }

  /** Decodes (or finds cached) the instruction at RIP. */
  fetch(): Instruction {
    const lo = this.regs[RIP_LO]!;
    let lin: number;
    if (this.mode === 64) lin = this.regs[RIP_LO + 1]! * TWO32 + (lo >>> 0);
    else {
      const eip = lo >>> 0;
      if (eip > this.segLimit[1]!) throw new X86Fault(13, 0, `EIP 0x${eip.toString(16)} beyond CS limit`);
      lin = (this.segBase[1]! + eip) >>> 0;
    }
    const base = this.lastFetchLin;
    if (lin >= base && lin - base < 4096) {
      // Index with an int32 (lin may exceed the Smi range): keeps the keyed load on its fast path.
      const c = this.lastFetchCache.at(lin & 0xfff);
      if (c !== undefined && c.mode === this.mode) return c;
    }
    const off = lin & 0xfff;
    return this.fetchSlow(lin, (lin - off) / 4096, off);
  }

  /**
   * The block starting at RIP, built on first use; undefined where the fetch path must go one
   * instruction at a time (an instruction that continues on the next page, a block that would
   * run past the CS limit or wrap IP). Faults exactly as fetch() for the first instruction.
   */
  fetchBlock(): Block | undefined {
    const lo = this.regs[RIP_LO]!;
    let lin: number, eip = 0;
    if (this.mode === 64) {
      lin = this.regs[RIP_LO + 1]! * TWO32 + (lo >>> 0);
      const j = (lo ^ (lo >>> 12)) & (JUMP_CACHE - 1);
      if (this.jumpLin[j] === lin && this.jumpGen[j] === this.codeGen && this.jumpCpl[j] === this.cpl) return this.jumpBlock[j];
      const b = this.fetchBlockAt(lin, 0);
      if (b !== undefined) {
        this.jumpLin[j] = lin; this.jumpGen[j] = this.codeGen; this.jumpCpl[j] = this.cpl; this.jumpBlock[j] = b;
      }
      return b;
    } else {
      eip = lo >>> 0;
      if (eip > this.segLimit[1]!) throw new X86Fault(13, 0, `EIP 0x${eip.toString(16)} beyond CS limit`);
      lin = (this.segBase[1]! + eip) >>> 0;
    }
    return this.fetchBlockAt(lin, eip);
  }

  /** fetchBlock's work after the jump cache: the block at linear address lin (eip: legacy modes' EIP). */
  private fetchBlockAt(lin: number, eip: number): Block | undefined {
    const base = this.lastFetchLin;
    const off = lin & 0xfff;
    let b: Block | undefined;
    if (lin >= base && lin - base < 4096) b = this.lastFetchBlocks.get(off);
    else {
      // Another page: a block already built there needs no decode check of its first instruction.
      this.enterCodePage(lin, (lin - off) / 4096);
      b = this.lastFetchBlocks.get(off);
    }
    if (b === undefined || b.mode !== this.mode) {
      // An instruction continuing on the next page runs on its own (fetch checks its bytes there).
      if (off + this.fetchSlow(lin, (lin - off) / 4096, off).length > 4096) return undefined;
      b = this.lastFetchBlocks.get(off);
      if (b === undefined || b.mode !== this.mode) {
        b = this.buildBlock(off);
        this.lastFetchBlocks.set(off, b);
      }
    }
    if (this.mode !== 64 && (eip + b.lastOffset > this.segLimit[1]! || (this.mode === 16 && eip + b.bytes > 0x10000))) {
      return undefined;
    }
    return b;
  }

  /**
   * The block at RIP right after prev ran to its end through the executor: prev's link when it
   * names this RIP and no decoded code was dropped since (nothing an executor instruction does
   * can change the mode, CS, paging or privilege that fetchBlock checks); else fetchBlock, linked.
   */
  nextBlock(prev: Block): Block | undefined {
    const lo = this.regs[RIP_LO]!, hi = this.regs[RIP_LO + 1]!;
    if (prev.linkGen === this.codeGen) {
      if (prev.nextLo0 === lo && prev.nextHi0 === hi && prev.next0 !== undefined) return prev.next0;
      if (prev.nextLo1 === lo && prev.nextHi1 === hi && prev.next1 !== undefined) return prev.next1;
    } else {
      prev.next0 = prev.next1 = undefined;
      prev.linkGen = this.codeGen;
    }
    const b = this.fetchBlock();
    if (b !== undefined && prev.linkGen === this.codeGen) {
      prev.next1 = prev.next0; prev.nextLo1 = prev.nextLo0; prev.nextHi1 = prev.nextHi0;
      prev.next0 = b; prev.nextLo0 = lo; prev.nextHi0 = hi;
    }
    return b;
  }

  /** Decodes straight-line code from page offset off (the page fetchSlow just made current). */
  private buildBlock(off: number): Block {
    const cache = this.lastFetchCache, mode = this.mode;
    const insns: Instruction[] = [];
    let o = off, last = 0;
    while (o < 4096 && insns.length < BLOCK_MAX) {
      let insn = cache.at(o);
      if (insn === undefined || insn.mode !== mode) {
        const bytes = this.lastFetchBytes;
        try {
          // Near the page's end, only its own bytes: one continuing on the next page ends the block.
          insn = o <= 4096 - 15 ? decode(bytes, mode, o) : decode(bytes.subarray(o), mode, 0);
        } catch (e) {
          if (insns.length === 0) throw e; // not reached: fetchSlow decoded it already
          break;
        }
        cache.set(o, insn);
      }
      insns.push(insn);
      last = o - off;
      o += insn.length;
      // MMX/SSE forms run inside blocks too: they change no mode, and write memory only through
      // their memory operand (src/x86/sse vectorRunsInBlock).
      if (!vectorRunsInBlock(insn) && endsBlock(insn)) break;
    }
    // 64-bit blocks run cold through records where their instructions have them (cold-code.ts).
    const code = mode === 64 ? encodeBlock(insns) : undefined;
    // Fields in the order the run loop reads them from block to block (an object's fields lie in
    // the order it was built): those of a step between compiled blocks come first and share cache
    // lines; a boot touches tens of thousands of blocks, and loading one is often a cache miss.
    return {
      count: insns.length, fn: undefined, label: 0, region: undefined, wasm: undefined,
      linkGen: -1, nextLo0: 0, nextHi0: 0, next0: undefined, nextLo1: 0, nextHi1: 0, next1: undefined, runs: 0, fns: emptyClosures(insns.length), code, codeAt: code === undefined ? 0 : encoded.at, insns,
      mode, lastOffset: last, bytes: o - off, off, page: this.lastFetchBlocks,
    };
  }

  /**
   * Makes the page holding lin the fetch path's current page: the fetch walk (faults as the
   * fetch would), its decoded-code page (created on first use, re-validated against guest RAM
   * on its first use in a run).
   */
  private enterCodePage(lin: number, page: number): void {
    const i = this.slot(lin, ACCESS_FETCH, this.cpl === 3, 1);
    const t = this.tlb;
    // An int key (guest-physical pages number < 2^28): Map lookups hash it as a small integer.
    const physPage = t.phys[i]! | 0;
    if (t.global[i] === 0) this.nonGlobalCode = true;
    const bytes = t.bytes[i]!, base = t.base[i]!;
    let cp = this.codeCache.get(physPage);
    if (!cp) {
      // Counted before its bytes are read: another vCPU's write after the count is announced
      // (code-watch.ts), one before it is in what is read.
      this.watch?.enter(physPage);
      // A page guest writes retired keeps what they left unchanged.
      const now = bytes.subarray(base, base + 4096);
      cp = this.retiredCode.take(physPage);
      if (cp === undefined) cp = newCodePage(now, this.runEpoch);
      else {
        keepUnchanged(cp, now);
        cp.epoch = this.runEpoch;
      }
      this.codeCache.set(physPage, cp);
      t.revokeWrites(physPage);
    } else if (cp.epoch !== this.runEpoch) {
      // First use in this run: the host may have written the page since (guest writes retire
      // the page at once).
      cp.epoch = this.runEpoch;
      keepUnchanged(cp, bytes.subarray(base, base + 4096));
    }
    this.lastFetchLin = page * 4096;
    this.lastFetchCache = cp.insns;
    this.lastFetchBlocks = cp.blocks;
    this.lastFetchCrossing = cp.crossing;
    // Decoded from the snapshot the page was checked against (code-page.ts), not from RAM.
    this.lastFetchBytes = cp.snapshot;
  }

  private fetchSlow(lin: number, page: number, off: number): Instruction {
    this.enterCodePage(lin, page);
    const user = this.cpl === 3;
    const t = this.tlb;
    const cache = this.lastFetchCache;
    const c = cache.at(off);
    if (c !== undefined && c.mode === this.mode) return c;
    if (off <= 4096 - 15) {
      const insn = this.decodeAt(this.lastFetchBytes, off);
      cache.set(off, insn);
      return insn;
    }
    // Near the end of the page: the instruction may continue on the next page.
    const avail = 4096 - off;
    const buf = this.fetchBuf;
    for (let k = 0; k < avail; k++) buf[k] = this.lastFetchBytes[off + k]!;
    // A crossing instruction decoded here before in this mode: these bytes are as it was decoded
    // from (a write here drops the page's crossing instructions too), so it still crosses.
    const seen = this.lastFetchCrossing.get(off);
    const known = seen !== undefined && seen.insn.mode === this.mode ? seen : undefined;
    if (known === undefined) {
      try {
        const insn = decode(buf.subarray(0, avail), this.mode, 0);
        cache.set(off, insn);
        return insn;
      } catch (e) {
        if (!(e instanceof VmmError) || e.code !== 'EFAULT') return this.decodeFailed(e, buf.subarray(0, avail));
      }
    }
    // It continues on the next page, which is fetched (and may fault) as on hardware.
    const j = this.slot(lin + avail, ACCESS_FETCH, user, 1);
    const next = t.bytes[j]!, nextBase = t.base[j]!;
    if (known !== undefined && sameBytes(known.tail, next, nextBase)) return known.insn;
    for (let k = avail; k < 15; k++) buf[k] = next[nextBase + k - avail]!;
    try {
      const insn = decode(buf, this.mode, 0);
      this.lastFetchCrossing.set(off, { insn, tail: buf.slice(avail, insn.length) });
      return insn;
    } catch (e) {
      return this.decodeFailed(e, buf);
    }
  }

  private decodeAt(bytes: Uint8Array, at: number): Instruction {
    try {
      return decode(bytes, this.mode, at);
    } catch (e) {
      return this.decodeFailed(e, bytes.subarray(at, at + 15));
    }
  }

  /** Undecodable bytes are #UD, as on hardware. */
  private decodeFailed(e: unknown, bytes: Uint8Array): never {
    if (e instanceof VmmError) {
      throw new X86Fault(6, undefined, `undecodable bytes ${Array.from(bytes.subarray(0, 15), (b) => b.toString(16).padStart(2, '0')).join(' ')}: ${e.message}`);
    }
    throw e;
  }

  /** The bytes of the instruction at RIP for a memory exit (empty if they cannot be read). */
  instBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    try {
      const lin = this.fetchLinear();
      for (let k = 0; k < length; k++) {
        const i = this.slot(lin + k, ACCESS_FETCH, this.cpl === 3, 1);
        out[k] = this.tlb.bytes[i]![this.tlb.base[i]! + ((lin + k) & 0xfff)]!;
      }
    } catch {
      return new Uint8Array(0);
    }
    return out;
  }
}
