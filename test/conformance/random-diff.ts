/**
 * Random-instruction differential testing of the soft CPU against KVM (native execution at CPL3).
 * A block is a seeded sequence of random general-purpose instructions (the executor's templates,
 * test/exec/templates.ts, plus stack, branch and REP string forms), each preceded by the MOVs
 * that set the registers its template constrains (memory operands point into a 256-byte window
 * at MEM_BASE). The block runs at CPL3 in 64-bit mode from identical random registers and memory
 * on both backends and ends with HLT: #GP with no IDT, so both stop with a 'shutdown' exit at
 * the HLT (or earlier, at a faulting instruction). Registers, RFLAGS (RF aside) and the memory
 * window must then be identical. On a mismatch the block is bisected to the first instruction
 * whose prefix differs.
 */
import { Worker } from 'node:worker_threads';
import { Hypervisor, State, type BackendName, type Gprs, type Machine, type Vcpu } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { encode, hexBytes, type EncSpec } from '../exec/encode.js';
import { MEM_BASE, MEM_SIZE } from '../exec/native-oracle.js';
import { Rng } from '../exec/rng.js';
import { TEMPLATES, type Setup, type Size, type Template } from '../exec/templates.js';

const RAM = 4 * 2 ** 20;
const CODE_GPA = 0x100000;
const WINDOW_GPA = 0x200000; // MEM_BASE is mapped here by a 2 MiB page
const TABLES_GPA = 0x3f0000;
const STACK = 0x80000;
const GPR_ORDER: (keyof Gprs)[] = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** Extra forms the soft CPU handles beyond the executor's per-instruction tests. */
const EXTRA: Template[] = [
  { name: 'push/pop r', sizes: [8], make: (_s, rng) => ({ opcode: 0x50, opSize: 8, noRexW: true, opReg: rng.pick([0, 1, 2, 3, 5, 6, 7, 8, 9]) }) },
  { name: 'pop r', sizes: [8], make: (_s, rng) => ({ opcode: 0x58, opSize: 8, noRexW: true, opReg: rng.pick([0, 1, 2, 3, 5, 6, 7, 8, 9]) }) },
  { name: 'pushfq', sizes: [8], make: () => ({ opcode: 0x9c, opSize: 8, noRexW: true, bare: true }) },
  { name: 'lea r,[m]', sizes: [2, 4, 8], make: (s, rng) => ({ opcode: 0x8d, opSize: s, reg: rng.pick([0, 1, 2, 3, 6, 7, 8]), rm: rng.pick([0, 1, 2, 3, 6, 7]), disp8: rng.int(256) - 128 }) },
  ...([0xa4, 0xa5, 0xaa, 0xab, 0xa6, 0xa7, 0xae, 0xaf, 0xac, 0xad] as const).map((opcode): Template => ({
    name: `rep string ${opcode.toString(16)}`, sizes: opcode & 1 ? [2, 4, 8] as const : [1] as const,
    make: (s: Size, rng: Rng, setup: Setup): EncSpec => {
      // RSI/RDI inside the window with room for 8 elements each way, RCX small.
      const room = 8 * s;
      setup.regs[6] = BigInt(MEM_BASE + room + rng.int(MEM_SIZE - 3 * room));
      setup.regs[7] = BigInt(MEM_BASE + room + rng.int(MEM_SIZE - 3 * room));
      setup.regs[1] = BigInt(rng.int(8));
      const rep = opcode === 0xac || opcode === 0xad ? 0 : rng.pick([0, 0xf3, 0xf2] as const);
      return { opcode, opSize: s, bare: true, rep: rep === 0xf2 && (opcode & 0xf6) !== 0xa6 ? 0xf3 : rep };
    },
  })),
];

/**
 * The executor's stack templates are left out: they point RSP and return addresses at its
 * oracle's own layout (EXTRA covers PUSH/POP/PUSHF here, with RSP on the guest stack).
 */
const ALL_TEMPLATES: Template[] = [...TEMPLATES.filter((t) => !t.stack), ...EXTRA];

export interface Block {
  code: Uint8Array;
  /** Byte offset in code where each instruction (with its setup MOVs) starts. */
  starts: number[];
  names: string[];
  regs: bigint[];
  mem: Uint8Array;
  /** 64: 64-bit mode; 32: compatibility mode (a 32-bit CPL3 code segment in long mode). */
  mode: 64 | 32;
}

/** Bytes the encoder emitted that mean something else in 32-bit code: REX, or a 0x67 override. */
function legacyIncompatible(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && [0x66, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x67].includes(bytes[i]!)) {
    if (bytes[i] === 0x67) return true;
    i++;
  }
  return i < bytes.length && (bytes[i]! & 0xf0) === 0x40;
}

/** MOV reg, imm: 64-bit (REX.W B8+r imm64) or, in 32-bit code, B8+r imm32. */
function movImm(reg: number, v: bigint, mode: 64 | 32): number[] {
  if (mode === 32) {
    const out = [0xb8 + reg];
    for (let i = 0; i < 4; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
    return out;
  }
  return movImm64(reg, v);
}

function movImm64(reg: number, v: bigint): number[] {
  const out = [0x48 | (reg >= 8 ? 1 : 0), 0xb8 + (reg & 7)];
  for (let i = 0; i < 8; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** A random block of n instructions (plus setup MOVs), ending with HLT. */
export function makeBlock(rng: Rng, n: number, mode: 64 | 32 = 64, skip?: RegExp): Block {
  const code: number[] = [];
  const starts: number[] = [];
  const names: string[] = [];
  // The window's initial contents: templates may read or patch them (as of the block's start).
  const mem = new Uint8Array(MEM_SIZE);
  for (let i = 0; i < MEM_SIZE; i++) mem[i] = rng.int(256);
  for (let k = 0; k < n; k++) {
    let t: Template, size: Size, setup: Setup, bytes: Uint8Array;
    for (;;) {
      t = rng.pick(ALL_TEMPLATES);
      if (skip?.test(t.name)) continue;
      size = rng.pick(t.sizes);
      setup = { regs: new Array<bigint | null>(16).fill(null), flagsMask: 0, mem };
      const spec = t.make(size, rng, setup);
      bytes = encode(spec).bytes;
      // 32-bit code: no 64-bit operands, no R8-R15, no REX, no address-size override.
      if (mode === 64 || (size !== 8 && !setup.regs.some((v, r) => v !== null && r >= 8) && !legacyIncompatible(bytes))) break;
    }
    starts.push(code.length);
    setup.regs.forEach((v, r) => { if (v !== null && r !== 4) code.push(...movImm(r, v, mode)); });
    // A forward conditional branch over the instruction now and then.
    const branch = rng.int(8) === 0;
    if (branch) code.push(0x70 + rng.int(16), bytes.length);
    code.push(...bytes);
    names.push(`${t.name}/${size}${branch ? ' (jcc over)' : ''}: ${hexBytes(bytes)}`);
  }
  starts.push(code.length);
  code.push(0xf4);
  // 32-bit code: registers start with zero upper halves (their upper halves are undefined there).
  const regs = GPR_ORDER.map(() => (mode === 32 ? rng.value() & 0xffffffffn : rng.value()));
  regs[4] = BigInt(STACK);
  return { code: new Uint8Array(code), starts, names, regs, mem, mode };
}

/** The block cut after its first `count` instructions (HLT appended). */
export function truncate(b: Block, count: number): Block {
  const code = new Uint8Array(b.starts[count]! + 1);
  code.set(b.code.subarray(0, b.starts[count]!));
  code[code.length - 1] = 0xf4;
  return { ...b, code, starts: b.starts.slice(0, count + 1), names: b.names.slice(0, count) };
}

export interface BlockResult { exit: string; gprs: Gprs; mem: Uint8Array; stack: Uint8Array }

/** Milliseconds a block may run before the watchdog stops it (blocks normally take well under 1 ms). */
const BLOCK_TIMEOUT_MS = 5000;

/**
 * Stops a run that does not end (a generator bug must fail the test, not hang it): a worker
 * waits on a shared word that is 1 while a run is in progress and calls stopVcpu on timeout.
 */
class Watchdog {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  constructor(cpu: Vcpu) {
    this.worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const ctl = new Int32Array(workerData.ctl);
       import(workerData.api).then(({ stopVcpu }) => {
         for (;;) {
           Atomics.wait(ctl, 0, 0);
           if (Atomics.load(ctl, 0) < 0) return;
           if (Atomics.wait(ctl, 0, 1, workerData.timeout) === 'timed-out') {
             stopVcpu(workerData.handle);
             while (Atomics.load(ctl, 0) === 1) Atomics.wait(ctl, 0, 1, 100);
           }
         }
       });`,
      { eval: true, workerData: { ctl: this.ctl.buffer, handle: cpu.stopHandle(), timeout: BLOCK_TIMEOUT_MS, api: new URL('../../src/index.js', import.meta.url).href } },
    );
  }
  arm(): void { Atomics.store(this.ctl, 0, 1); Atomics.notify(this.ctl, 0); }
  disarm(): void { Atomics.store(this.ctl, 0, 0); Atomics.notify(this.ctl, 0); }
  /**
   * Tells the worker to end; it does once its import is done. Not terminate(): a worker ended while
   * it loads the API, koffi's native module with it, aborts the whole process (FATAL ERROR
   * napi_throw; about one run in twenty of this file on a loaded host, and a worker terminated
   * 200-300 ms into `import('src/index.js')` does it in scratch runs).
   */
  close(): void { Atomics.store(this.ctl, 0, -1); Atomics.notify(this.ctl, 0); }
}

/** One backend's machine, reused across blocks. */
export class DiffRunner {
  private readonly hv: Hypervisor;
  private readonly m: Machine;
  private readonly ram: Uint8Array;
  private readonly cpu: Vcpu;
  private readonly watchdog: Watchdog;

  constructor(readonly backend: BackendName) {
    this.hv = Hypervisor.open({ backend });
    this.m = this.hv.createMachine();
    const mem = this.m.allocate(RAM);
    this.m.map(0, mem);
    this.ram = mem.bytes;
    this.cpu = this.m.createVcpu(0);
    this.watchdog = new Watchdog(this.cpu);
  }

  run(b: Block): BlockResult {
    const ram = this.ram;
    ram.fill(0);
    ram.set(b.code, CODE_GPA);
    ram.set(b.mem, WINDOW_GPA + (MEM_BASE % (2 * 2 ** 20)));
    const st = longModeState({ ram, ramGpa: 0, tablesGpa: TABLES_GPA, mapBytes: RAM }, { entry: CODE_GPA, stack: STACK, cpl: 3 });
    // MEM_BASE (in the first GiB) -> WINDOW_GPA with a user-writable 2 MiB page.
    const pdIndex = Math.floor(MEM_BASE / (2 * 2 ** 20));
    new DataView(ram.buffer, ram.byteOffset).setUint32(TABLES_GPA + 0x2000 + pdIndex * 8, WINDOW_GPA | 0x87, true);
    const gprs = Object.fromEntries(GPR_ORDER.map((r, i) => [r, b.regs[i]!])) as Gprs;
    gprs.rip = BigInt(CODE_GPA);
    gprs.rflags = 0x202n;
    if (b.mode === 32) {
      st.segs = { ...st.segs!, cs: { selector: 0x1b, base: 0n, limit: 0xffffffff, type: 0xb, s: 1, dpl: 3, p: 1, avl: 0, l: 0, def: 1, g: 1 } };
    }
    this.cpu.setState({ ...st, gprs });
    this.watchdog.arm();
    let exit;
    try {
      exit = this.cpu.run();
    } finally {
      this.watchdog.disarm();
    }
    const g = this.cpu.getState(State.GPRS).gprs!;
    g.rflags &= ~0x10000n; // RF: set or not by the failed delivery, host-dependent
    const w = WINDOW_GPA + (MEM_BASE % (2 * 2 ** 20));
    return { exit: exit.reason, gprs: g, mem: ram.slice(w, w + MEM_SIZE), stack: ram.slice(STACK - 0x400, STACK) };
  }

  close(): void {
    this.watchdog.close();
    this.hv.close();
  }
}

export function compareResults(a: BlockResult, b: BlockResult, mode: 64 | 32 = 64): string[] {
  const out: string[] = [];
  if (a.exit !== b.exit) out.push(`exit ${a.exit} vs ${b.exit}`);
  // 32-bit code: only the low halves are architecturally defined.
  const mask = mode === 32 ? 0xffffffffn : 0xffffffffffffffffn;
  for (const k of [...GPR_ORDER, 'rip', 'rflags'] as (keyof Gprs)[]) {
    const x = a.gprs[k] & mask, y = b.gprs[k] & mask;
    if (x !== y) out.push(`${k} 0x${x.toString(16)} vs 0x${y.toString(16)}`);
  }
  for (let i = 0; i < a.mem.length; i++) {
    if (a.mem[i] !== b.mem[i]) { out.push(`mem[${i}] 0x${a.mem[i]!.toString(16)} vs 0x${b.mem[i]!.toString(16)}`); break; }
  }
  for (let i = 0; i < a.stack.length; i++) {
    if (a.stack[i] !== b.stack[i]) { out.push(`stack[-0x${(a.stack.length - i).toString(16)}] differs`); break; }
  }
  return out;
}

/**
 * Compatibility-mode CPL3 code is not run natively by this workplace's KVM (the PVM module hands
 * it to KVM's instruction emulator), and that emulator lacks these forms (#UD, or LZCNT/TZCNT
 * run as BSR/BSF): on such a host they are left out of 32-bit blocks. Real VT-x/AMD-V hosts
 * need no skip list.
 */
export const KVM_EMULATOR_GAPS = /^(crc32|movbe|popcnt|lzcnt|tzcnt|adcx|movsxd)/;

/**
 * Forms whose SDM-undefined flags or results the soft CPU takes from AMD (src/x86/exec/
 * undefined-flags.ts; REP string counts and pointers with a 32-bit address size keep their upper
 * halves as on AMD, Intel zeroes them): on another vendor's host KVM runs them the other way, so
 * they are left out of the blocks there. Found by running the differential on an Intel host with
 * many seeds: every mismatch was one of these, and none is left with them out.
 */
export const AMD_UNDEFINED_FORMS = /^(shift|shld|shrd|mul|imul|div|idiv|tzcnt|lzcnt|(movs|cmps|stos|lods|scas) addr32)/;

/** The forms to leave out on this host (the emulator gaps in compatibility mode, the vendor's). */
export function hostSkips(mode: 64 | 32, vendor: string): RegExp | undefined {
  const parts: string[] = [];
  if (mode === 32) parts.push(KVM_EMULATOR_GAPS.source);
  if (vendor !== 'AuthenticAMD') parts.push(AMD_UNDEFINED_FORMS.source);
  return parts.length === 0 ? undefined : new RegExp(parts.join('|'));
}

export interface Mismatch { seed: number; block: number; instruction: string; diff: string[] }

/** Runs `blocks` blocks of `len` instructions; returns the mismatches (bisected). */
/** How many of the block's instructions ran before the run stopped at rip (a fault ends a block early). */
export function executedCount(b: Block, rip: bigint): number {
  const at = Number(rip) - CODE_GPA;
  let n = 0;
  while (n + 1 < b.starts.length && b.starts[n + 1]! <= at) n++;
  return n;
}

/**
 * Runs `blocks` blocks of `len` instructions; returns the mismatches (bisected) and the number of
 * random instructions actually executed (blocks that fault, e.g. #DE, stop early).
 */
export function differential(soft: DiffRunner, kvm: DiffRunner, seed: number, blocks: number, len: number,
  mode: 64 | 32 = 64, skip?: RegExp): { instructions: number; mismatches: Mismatch[] } {
  const rng = new Rng(seed);
  const mismatches: Mismatch[] = [];
  let instructions = 0;
  for (let i = 0; i < blocks; i++) {
    const b = makeBlock(rng, len, mode, skip);
    const sr = soft.run(b);
    instructions += executedCount(b, sr.gprs.rip);
    const diff = compareResults(sr, kvm.run(b), mode);
    if (diff.length === 0) continue;
    // Bisect: the shortest prefix that already differs.
    let lo = 0, hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const t = truncate(b, mid + 1);
      if (compareResults(soft.run(t), kvm.run(t), mode).length > 0) hi = mid; else lo = mid + 1;
    }
    const t = truncate(b, lo + 1);
    mismatches.push({ seed, block: i, instruction: b.names[lo] ?? '(end)', diff: compareResults(soft.run(t), kvm.run(t), mode) });
  }
  return { instructions, mismatches };
}
