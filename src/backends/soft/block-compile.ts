/**
 * Hot straight-line blocks (cpu.ts Block) become one JS function that runs the block's
 * instructions in order: the hot forms as straight-line code over the executor's helpers, whose
 * bodies it copies in (block-inline.ts, helper-inline.ts), the rest through their compiled
 * closures (src/x86/exec/compile.ts); the instructions' semantics stay written once, in
 * src/x86/exec. Each block's function is a separate script, so each closure call inside it sees
 * exactly one target (one shared loop over fns[k] would be a megamorphic call).
 *
 * A block ending in a relative branch to its own start runs again while the branch goes back
 * there (a loop), as long as no decoded code was dropped and the whole block fits in the budget
 * again.
 *
 * Contract of the returned function fn(cpu, budget), run on a CPU whose RIP is the block's start,
 * with budget >= the block's length; R below counts instructions retired by this call (passes
 * through the block times its length, plus the instructions of the last pass):
 * - it runs instructions in order; cpu.instret has R added when it returns or throws;
 * - after an instruction that dropped decoded code (cpu.codeGen changed; only instructions that
 *   may write memory can) it stops: returns R;
 * - after the last instruction it returns R (a multiple of the length) unless it loops;
 * - when instruction R % length is declined, by the executor (a system instruction) or by its
 *   inlined form (a TLB probe that misses, a stack or target it does not handle), it returns
 *   -(P + 1), that instruction not run (its closure may have run and declined, changing nothing),
 *   where cpu.instret has had R - P added and RIP is the block's start: the caller adds P and
 *   moves RIP to that instruction (settleDecline), then runs it through its closure or the
 *   system path.
 *   A constant return keeps the decline free of arithmetic V8 has never seen run (which would
 *   deoptimise the block the first time a probe misses);
 * - a fault thrown by instruction R % length propagates (cpu.instret tells R).
 */
import type { Compiled } from '../../x86/exec/compile.js';
import type { Instruction } from '../../x86/instruction.js';
import { RIP_LO } from '../../x86/exec/context.js';
import { BLOCK_HELPERS, canonicalText, conditionText, deadRecords, DECLINE, inlineInsn, pop64, push64, recordAfter, RSP, SLOW_ENTER, SLOW_LEAVE, SLOW_LEAVE_WRITE } from './block-inline.js';
import { poolLocals } from './pooled-locals.js';
import type { SoftCpu } from './cpu.js';

/**
 * A compiled block or region: entry is the index of the region's block to start at (see
 * compileRegion); a block's own function has one block and ignores it.
 */
export type BlockFn = (cpu: SoftCpu, budget: number, entry: number) => number;

/**
 * Runs of a block before it is compiled. Compiling costs ~0.1 ms here, and the engine then
 * optimises each block function on a background thread, a few ms each whatever its size (median
 * 5 ms of a loaded 2-core host; ~2500 blocks made 24 s of CPU by `Run /init`), while the block
 * runs in the engine's slower tiers: only blocks that will run many more times gain. Linux boot to
 * `Run /init`, CPU s, paired runs on a loaded 2-core host: 4000 -> 48, 44, 48, 56; 8000 -> 38,
 * 53; 16000 -> 42, 35, 37, 36; 32000 -> 34; 40000 -> 39; 100000 -> 44.
 */
export let HOT_BLOCK_RUNS = 16000;

/** Sets HOT_BLOCK_RUNS (tests compile blocks after a few runs, to exercise compiled code). */
export function setHotBlockRuns(n: number): void {
  HOT_BLOCK_RUNS = n;
}

/**
 * The index in its block of the instruction a block function call stopped at, from the
 * instructions the call retired (whole passes of a loop, then the last pass's). An int32 count (a
 * call retires at most its budget): a double % here compiled to an x87 FPREM loop.
 */
export function stoppedAt(retired: number, length: number): number {
  const d = retired | 0;
  return d < length ? d : d % length;
}

/**
 * After a block function returned r < 0 (a decline) from a call that began with cpu.instret =
 * before: adds the instructions it retired since its last count, moves RIP from the block's
 * start to the declined instruction (a block lies in one page: no carry into the high half) and
 * returns that instruction's index in the block.
 */
export function settleDecline(cpu: { instret: number; regs: Int32Array }, insns: readonly Instruction[], before: number, r: number): number {
  cpu.instret += -r - 1;
  const i = stoppedAt(cpu.instret - before, insns.length);
  let at = 0;
  for (let j = 0; j < i; j++) at += insns[j]!.length;
  cpu.regs[RIP_LO] = (cpu.regs[RIP_LO]! + at) | 0;
  return i;
}

/** undefined when the host forbids code generation from strings: blocks then run uncompiled. */
export function compileBlock(insns: readonly Instruction[], fns: readonly Compiled[]): BlockFn | undefined {
  if (!codegenAllowed) return undefined;
  const names: Binding[] = [];
  for (let k = 0; k < fns.length; k++) names.push([`f${k}`, `fns[${k}]`], [`I${k}`, `insns[${k}]`]);
  return instantiate(factoryText(blockFunctionText(insns, true), names), fns, insns);
}

/**
 * The text of the block's function, `function block(cpu, budget) {...}`: its free names are
 * f<k> and I<k> (the instructions' closures and the instructions) and BLOCK_HELPERS' names.
 * pool: block-scoped declarations become reused function-level variables (pooled-locals.ts;
 * what V8 compiles fastest); the wasm tier takes the text unpooled, each name with one meaning.
 */
export function blockFunctionText(insns: readonly Instruction[], pool: boolean): string {
  const n = insns.length;
  // k counts retired instructions in a local; the finally adds it to instret however the block ends.
  // s0 s1: RIP at the block's start. Inlined forms (block-inline.ts) leave RIP alone: it is set
  // from s0 before a closure or a helper that may fault, by the block-ending branch or CALL/RET,
  // and at the end; a decline leaves it at s0 (settleDecline). A block lies in one page, so the
  // offsets of its instructions never carry into RIP's high half (only its end may).
  const loops = branchesToStart(insns);
  const body: string[] = [];
  const memory = blockStatements(insns, body);
  if (loops) body.push(`    if ($g${RIP_LO} !== s0 || $g${RIP_LO + 1} !== s1 || cpu.codeGen !== g || k + ${n} > budget) return k;`);
  const pooled = pool ? poolLocals(body) : { groups: body, pool: [] };
  const text = pooled.groups.join('\n');
  return functionText(loops ? `    for (;;) {\n${text}\n    }` : `${text}\n    return k;`, memory, pooled.pool, { s0: `rf[${RIP_LO}]`, region: false });
}

/**
 * The function around a block's or a region's statements (text): the register locals, the TLB
 * and segment names the statements use, and the finally that stores the registers and the count.
 */
function functionText(statements: string, memory: boolean, pool: readonly string[], o: { s0: string; region: boolean }): string {
  const { text, cached, save } = registersInLocals(statements);
  const lines = [`function block(cpu, budget${o.region ? ', entry' : ''}) {`, '  const g = cpu.codeGen;', `  let k = 0, live = true${o.region ? ', at = entry, kb = 0, nx = 0' : ''};`];
  if (pool.length !== 0) lines.push(`  let ${pool.join(', ')};`);
  lines.push(`  const rf = cpu.regs, s0 = ${o.s0}, s1 = rf[${RIP_LO + 1}];`);
  if (cached.length !== 0) lines.push(`  let ${cached.map((i) => `$g${i} = rf[${i}]`).join(', ')};`);
  // Inlined memory accesses probe the TLB through these (CPL cannot change inside a block: what
  // changes it is a system instruction, which ends the block).
  // Only the views and tags the text uses: every load here is paid on each call, and most blocks
  // are short (a Linux boot's compiled calls retire 5 instructions on average).
  if (memory) {
    const TLB_NAME = {
      tlbAt: 'tlb.at', ram32: 'tlb.ram32', ram16: 'tlb.ram16', ram8: 'tlb.ram8', tlbR: 'cpu.cpl === 3 ? tlb.readU : tlb.readS', tlbW: 'cpu.cpl === 3 ? tlb.writeU : tlb.writeS',
      tlbRLo: 'cpu.cpl === 3 ? tlb.readLoU : tlb.readLoS', tlbWLo: 'cpu.cpl === 3 ? tlb.writeLoU : tlb.writeLoS', tlbHi: 'tlb.tagHi', tlbAt8: 'tlb.at8',
    } as const;
    const used = (Object.keys(TLB_NAME) as (keyof typeof TLB_NAME)[]).filter((v) => new RegExp(`\\b${v}\\b`).test(text));
    if (used.length !== 0) lines.push(`  const tlb = cpu.tlb, ${used.map((v) => `${v} = ${TLB_NAME[v]}`).join(', ')};`);
  }
  // The segments' bases and fast limits the inlined accesses use, read once: only system
  // instructions load segments or change modes, and those end the block.
  const segments = [...new Set(text.match(/\$s(?:Base|Read|Write)\d/g))].sort();
  const SEG_FIELD = { Base: 'segBase', Read: 'segReadMax', Write: 'segWriteMax' } as const;
  if (segments.length !== 0) {
    lines.push(`  const ${segments.map((v) => `${v} = cpu.${SEG_FIELD[v.slice(2, -1) as keyof typeof SEG_FIELD]}[${v.slice(-1)}]`).join(', ')};`);
  }
  lines.push('  try {', text, '  } finally {', `    if (live) { ${save} }`, '    cpu.instret += k;');
  if (o.region) lines.push('    cpu.regionAt = at; cpu.regionKb = kb;');
  lines.push('  }', '}');
  return lines.join('\n');
}

/**
 * A block of a region, for blockStatements: its offset from the region's base (s0), the prefix
 * of its closure and instruction names, and the text of its last instruction (ending at end)
 * when that is a branch the region takes itself (undefined: the block compiler's own).
 */
interface RegionPart {
  base: number;
  prefix: string;
  branch(insn: Instruction, end: number, record: number | undefined): string | undefined;
}

/** A block of a region: its instructions, their closures, and its offset in the region's page. */
export interface RegionBlock { insns: readonly Instruction[]; fns: readonly Compiled[]; off: number }

/**
 * A region: blocks of one page of 64-bit code (region.ts picks them) as one function,
 * fn(cpu, budget, entry), that starts at blocks[entry] (RIP there) and takes the branches
 * between them itself. Contract as compileBlock's, with these differences. A block of the
 * region that ends in a Jcc or JMP rel to another goes on with it (a loop while the budget holds
 * and no decoded code was dropped); any other end leaves, RIP exact. Each call, as it returns or
 * throws, sets cpu.regionAt to the index of the block it was in and cpu.regionKb to the count R
 * had when that block began: the instruction it stopped at is index R - regionKb of that block,
 * and it ran that block to its end exactly when that index is the block's length. A decline
 * leaves RIP at the page's start (settleRegionDecline).
 */
export function compileRegion(blocks: readonly RegionBlock[]): BlockFn | undefined {
  if (!codegenAllowed) return undefined;
  const names: Binding[] = [];
  blocks.forEach((b, j) => {
    for (let k = 0; k < b.fns.length; k++) names.push([`f${j}_${k}`, `fns[${j}][${k}]`], [`I${j}_${k}`, `insns[${j}][${k}]`]);
  });
  return instantiate(factoryText(regionFunctionText(blocks), names), blocks.map((b) => b.fns), blocks.map((b) => b.insns));
}

/** After a region's function returned r < 0: settleDecline's work for the block it declined in. */
export function settleRegionDecline(cpu: { instret: number; regs: Int32Array; regionAt: number; regionKb: number }, blocks: readonly Pick<RegionBlock, 'insns' | 'off'>[], before: number, r: number): number {
  cpu.instret += -r - 1;
  const b = blocks[cpu.regionAt]!, i = cpu.instret - before - cpu.regionKb;
  let at = b.off;
  for (let j = 0; j < i; j++) at += b.insns[j]!.length;
  cpu.regs[RIP_LO] = (cpu.regs[RIP_LO]! + at) | 0;
  return i;
}

/** compileRegion's function text (free names: f<j>_<k>, I<j>_<k> and BLOCK_HELPERS'). */
export function regionFunctionText(blocks: readonly RegionBlock[]): string {
  const label = new Map(blocks.map((b, j) => [b.off, j]));
  // Every way out after a branch goes through one exit (below the switch) with the target's
  // offset in nx: the arithmetic that sets RIP is then code the engine has seen run, where an
  // exit of its own per branch and target would deoptimise the region the first time it is
  // taken (a budget running out, a branch that had not gone that way before).
  const branch = (insn: Instruction, end: number, record: number | undefined): string | undefined => {
    const kind = directBranch(insn);
    if (kind === undefined || insn.mode !== 64 || insn.opSize !== 8) return undefined;
    const go = (t: number): string => {
      const j = label.get(t);
      if (j === undefined) return `k++; nx = ${t}; break;`;
      return `k++; if (cpu.codeGen !== g || k + ${blocks[j]!.insns.length} > budget) { nx = ${t}; break; } at = ${j}; kb = k; continue;`;
    };
    const target = end + (insn.imm | 0);
    return kind === 'jmp' ? go(target) : conditionText(insn.opcode & 15, (v) => `if (${v}) { ${go(target)} } else { ${go(end)} }`, record);
  };
  // Each block's statements, pooled together (one pool for the function), then put in its case.
  const body: string[] = [], starts: number[] = [];
  let memory = false;
  blocks.forEach((b, j) => {
    starts.push(body.length);
    memory = blockStatements(b.insns, body, { base: b.off, prefix: `${j}_`, branch }) || memory;
    body.push('    return k;');
  });
  starts.push(body.length);
  const pooled = poolLocals(body);
  const cases = blocks.map((_, j) => `    case ${j}: {\n${pooled.groups.slice(starts[j], starts[j + 1]).join('\n')}\n    }`);
  // The exit after a branch: RIP at its target, or (a target whose low half would carry, out of
  // any canonical reach of the page) a decline of the branch, whose closure then decides.
  const exit = `{ const t = (s0 >>> 0) + nx; if (t >= 0 && t <= 0xffffffff) { $g${RIP_LO} = t | 0; return k; } k--; $g${RIP_LO} = s0; return -1; }`;
  // In 64-bit code RIP is the linear address: the page's start is RIP with its offset cleared.
  return functionText(`    for (;;) {\n      switch (at) {\n${cases.join('\n')}\n      }\n      ${exit}\n    }`, memory, pooled.pool, {
    s0: `rf[${RIP_LO}] & -4096`, region: true,
  });
}

/** Where a closure runs: the registers go to the register file before and come back after. */
const SAVE = '@save@', LOAD = '@load@';

/**
 * Registers in locals: register i is the local $g<i> in the block's statements (block-inline.ts),
 * loaded at entry. While `live`, the locals hold the registers: a closure (which reads and writes
 * the register file) runs with live = false after SAVE stored the registers the block writes, and
 * LOAD reloads them all after it; the finally stores them when the block ends or throws live
 * (an instruction that throws from inside a closure, such as a REP string instruction that
 * faults midway, leaves the register file as it made it). Locals let the engine keep registers
 * in machine registers and compile the block several times faster than typed-array accesses.
 */
function registersInLocals(text: string): { text: string; cached: number[]; save: string } {
  const indices = (re: RegExp): number[] => [...new Set([...text.matchAll(re)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const cached = indices(/\$g(\d+)/g), written = indices(/\$g(\d+) =(?!=)/g);
  const save = written.map((i) => `rf[${i}] = $g${i};`).join(' ');
  const load = cached.map((i) => `$g${i} = rf[${i}];`).join(' ');
  return { text: text.replaceAll(SAVE, save).replaceAll(LOAD, load), cached, save };
}

/** A call of closure call (statement text) with the registers in the register file around it. */
function closureCall(call: string): string {
  return `live = false; ${SAVE} ${call} ${LOAD} live = true;`;
}

/** fns and insns: a block's closures and instructions, or a region's, one array per block. */
type Factory = (fns: unknown, insns: unknown, helpers: typeof BLOCK_HELPERS) => BlockFn;

/** A free name of a block's function text and the factory expression it is bound to. */
export type Binding = readonly [name: string, value: string];

/**
 * The factory's body: a binding for each name the function text uses (its instructions' closures
 * and objects in names, and BLOCK_HELPERS'), then `return <fn>`. Only the names it uses: all of
 * the ~80 helpers bound in every factory doubled what V8 parses per block (the boot's 885
 * factories: 52-74 ms against 135-175 ms).
 */
export function factoryText(fn: string, names: readonly Binding[]): string {
  const used = new Set(fn.match(/[A-Za-z_$][\w$]*/g));
  const lines: string[] = [];
  for (const [name, value] of names) if (used.has(name)) lines.push(`const ${name} = ${value};`);
  for (const name of Object.keys(BLOCK_HELPERS)) if (used.has(name)) lines.push(`const ${name} = helpers.${name};`);
  lines.push(`return ${fn};`);
  return lines.join('\n');
}

/** Runs the generated factory text; undefined when code generation from strings is disallowed. */
function instantiate(text: string, fns: unknown, insns: unknown): BlockFn | undefined {
  let factory: Factory;
  try {
    factory = new Function('fns', 'insns', 'helpers', text) as Factory;
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    codegenAllowed = false; // --disallow-code-generation-from-strings
    return undefined;
  }
  return factory(fns, insns, BLOCK_HELPERS);
}

/**
 * The statements of one block, appended to lines: its instructions in order, inlined or through
 * their closures (bound as I<k> and f<k>), leaving RIP at the block's end. The code uses cpu,
 * the register locals $g<i> and rf (registersInLocals), s0, s1 (RIP at the block's start), g
 * (codeGen at entry) and k (instructions retired by this call), and returns early as
 * compileBlock's contract says (-(P + 1): declined, k: decoded code dropped). Returns whether an
 * inlined form accesses memory (and so uses the tlb* names).
 */
function blockStatements(insns: readonly Instruction[], lines: string[], part?: RegionPart): boolean {
  let memory = false;
  const n = insns.length, mode = insns[0]!.mode;
  const dead = mode === 16 ? [] : deadRecords(insns);
  // In a region, offsets count from s0 = its page's start, and a block may be entered from
  // another (RIP not set on the way in).
  let off = part?.base ?? 0, pending = 0, ripStale = part !== undefined;
  // The flag record the block's own instructions left, where known (block-inline recordAfter).
  let record: number | undefined;
  const f = (k: number): string => `f${part?.prefix ?? ''}${k}`, I = (k: number): string => `I${part?.prefix ?? ''}${k}`;
  const flush = (): void => {
    if (pending !== 0) lines.push(`    k += ${pending};`);
    pending = 0;
  };
  // RIP at block offset o; an offset at the block's end may be the end of its page, which in
  // 64-bit code may carry into the high half.
  const ripAt = (o: number): string => mode === 64
    ? `{ const t = (s0 >>> 0) + ${o}; $g${RIP_LO} = t | 0; if (t > 0xffffffff) $g${RIP_LO + 1} = (s1 + 1) | 0; }`
    : `$g${RIP_LO} = (s0 + ${o}) | 0;`;
  for (let k = 0; k < n; k++) {
    const insn = insns[k]!, end = off + insn.length;
    if (mode !== 16 && k === n - 1 && isRelativeBranch(insn)) {
      const branch = part?.branch(insn, end, record);
      if (branch !== undefined) {
        // A branch to the region's blocks: it retires the instruction and leaves or continues.
        flush();
        lines.push(`    ${branch}`);
        return memory;
      }
      const jcc = inlineJcc(insn, end, record);
      if (jcc !== undefined) {
        flush();
        lines.push(`    ${jcc.replaceAll(DECLINE, decline(0))}`, '    k++;');
        ripStale = false;
        off = end;
        continue;
      }
    }
    const transfer = k === n - 1 ? inlineCallRet(insn, end) : undefined;
    if (transfer !== undefined) {
      // It sets RIP itself, or declines.
      memory = true;
      lines.push(`    ${transfer.replaceAll(DECLINE, decline(pending))}`);
      pending++;
      ripStale = false;
      off = end;
      continue;
    }
    const form = mode === 16 ? undefined : inlineInsn(insn, I(k), end, dead[k], record);
    // A dead record is never stored; a closure may leave any record.
    record = form !== undefined && !dead[k] ? recordAfter(insn, record) : undefined;
    if (form !== undefined && !form.faults) {
      // Where its TLB probe declines, the run loop takes the instruction over (and makes RIP
      // and the retired count exact).
      if (form.text.includes(DECLINE)) memory = true;
      lines.push(`    ${form.text.replaceAll(DECLINE, decline(pending))}`);
      pending++;
      ripStale = true;
    } else if (form !== undefined) {
      // Its helper may fault, exit or drop decoded code: RIP and the retired count exact around
      // that call only (the count is undone when it returns).
      memory = true;
      const enter = `${ripStale ? ripAt(off) : ''}${pending !== 0 ? ` k += ${pending};` : ''}`;
      const leave = pending !== 0 ? `k -= ${pending};` : '';
      const dropped = k < n - 1 ? `if (cpu.codeGen !== g) { ${ripAt(end)} k += 1; return k; } ` : '';
      lines.push(`    ${slowPaths(form.text, enter, leave, dropped + leave)}`);
      pending++;
      ripStale = true;
    } else {
      if (ripStale) lines.push(`    ${ripAt(off)}`);
      ripStale = false;
      flush();
      const fp = mode === 16 ? undefined : footprint(insn);
      // A declined closure changed nothing: the locals hold the registers again (live).
      const run = `if (!${f(k)}(cpu)) { live = true; ${decline(0)} }`;
      lines.push(fp === undefined ? `    ${closureCall(run)}` : `    ${fp.reads.map((i) => `rf[${i}] = $g${i};`).join(' ')} ${run} ${fp.writes.map((i) => `$g${i} = rf[${i}];`).join(' ')}`, '    k++;');
      if (k < n - 1 && mayWriteMemory(insn)) lines.push('    if (cpu.codeGen !== g) return k;');
    }
    off = end;
  }
  if (ripStale) lines.push(`    ${ripAt(off)}`);
  flush();
  return memory;
}

/**
 * A decline with pending instructions retired since the block's last count (compileBlock's
 * contract): RIP back to the block's start, a constant return.
 */
function decline(pending: number): string {
  return `$g${RIP_LO} = s0; return ${-(pending + 1)};`;
}

/** text with its slow-path markers (block-inline SLOW_ENTER, SLOW_LEAVE, SLOW_LEAVE_WRITE) replaced. */
function slowPaths(text: string, enter: string, leave: string, leaveWrite: string): string {
  return text.replaceAll(SLOW_ENTER, () => enter).replaceAll(SLOW_LEAVE_WRITE, () => leaveWrite).replaceAll(SLOW_LEAVE, () => leave);
}

/**
 * A block-ending Jcc rel or JMP rel at block offset end - its length (end: the next instruction's
 * offset) with the mode's default operand size, as statements that set RIP; in 64-bit code a
 * target whose low half carries into the high half is a DECLINE (its closure, run by the run
 * loop, also checks canonicality): a call of the closure here, with the registers stored around
 * it, was 749 of the 925 closure calls in a Linux boot's compiled block text (~5% of its
 * characters), on a path that never ran.
 */
function inlineJcc(insn: Instruction, end: number, record: number | undefined): string | undefined {
  const kind = directBranch(insn);
  if (kind === undefined) return undefined;
  const target = end + (insn.imm | 0);
  let branch: (taken: string) => string;
  if (insn.mode === 32 && insn.opSize === 4) {
    branch = (taken) => `$g${RIP_LO} = (s0 + (${taken} ? ${target} : ${end})) | 0; $g${RIP_LO + 1} = 0;`;
  } else if (insn.mode === 64 && insn.opSize === 8) {
    branch = (taken) => `{ const t = (s0 >>> 0) + (${taken} ? ${target} : ${end});` +
      ` if (t >= 0 && t <= 0xffffffff) $g${RIP_LO} = t | 0; else { ${DECLINE} } }`;
  } else {
    return undefined;
  }
  return kind === 'jmp' ? branch('true') : conditionText(insn.opcode & 15, branch, record);
}

let codegenAllowed = true;

/**
 * Near CALL, RET and JMP through their closures, which read and write only these registers
 * (regs indices) and change nothing when they fault (push and pop commit rSP last, RET puts rSP
 * back when its target is not canonical): around them the block stores only what they read and
 * reloads only what they write, and its locals stay live. Every other closure gets the whole
 * register file (closureCall).
 */
function footprint(insn: Instruction): { reads: number[]; writes: number[] } | undefined {
  if (insn.vex !== 0 || insn.map !== 0) return undefined;
  const op = insn.opcode, rip = [RIP_LO, RIP_LO + 1], rsp = [RSP, RSP + 1];
  if (op === 0xe8 || op === 0xc3 || op === 0xc2) return { reads: [...rip, ...rsp], writes: [...rsp, ...rip] };
  if (op !== 0xff || insn.mod !== 3) return undefined;
  const target = [insn.rm << 1, (insn.rm << 1) + 1];
  if ((insn.reg & 7) === 4) return { reads: [...rip, ...target], writes: rip };
  if ((insn.reg & 7) === 2) return { reads: [...rip, ...rsp, ...target], writes: [...rsp, ...rip] };
  return undefined;
}

/**
 * A block-ending CALL rel32 or RET (imm16) in 64-bit code with a 64-bit operand size, as
 * statements: the stack access inlined (block-inline push64/pop64), RIP set. What they decline
 * (a DECLINE: the run loop runs the closure) are TLB misses, a stack far from a canonical one, a
 * CALL target whose low half carries into the high half, a RET to a non-canonical address (the
 * closure raises the #GP).
 */
function inlineCallRet(insn: Instruction, end: number): string | undefined {
  if (insn.mode !== 64 || insn.opSize !== 8 || insn.vex !== 0 || insn.map !== 0) return undefined;
  const op = insn.opcode;
  if (op === 0xe8) {
    const setRip = `$g${RIP_LO} = t | 0; $g${RIP_LO + 1} = s1;`;
    return `{ const t = (s0 >>> 0) + ${end + (insn.imm | 0)}, n = (s0 >>> 0) + ${end};` +
      ` if (t >= 0 && t <= 0xffffffff) { const $v = n | 0, $vh = n > 0xffffffff ? (s1 + 1) | 0 : s1; ${push64('$v', '$vh', setRip)} } else { ${DECLINE} } }`;
  }
  if (op !== 0xc3 && op !== 0xc2) return undefined;
  const extra = op === 0xc2 ? insn.imm & 0xffff : 0;
  return `{ ${pop64((v, vh, commit) => canonicalText(vh, (ok) => `if (${ok}) { ${commit} $g${RIP_LO} = ${v}; $g${RIP_LO + 1} = ${vh}; } else { ${DECLINE} }`), extra)} }`;
}

/** Jcc rel ('jcc') or JMP rel ('jmp'): the branches compiled code takes itself. */
export function directBranch(insn: Instruction): 'jcc' | 'jmp' | undefined {
  if (insn.vex !== 0) return undefined;
  const op = insn.opcode;
  if ((insn.map === 0 && op >= 0x70 && op <= 0x7f) || (insn.map === 1 && op >= 0x80 && op <= 0x8f)) return 'jcc';
  return insn.map === 0 && (op === 0xe9 || op === 0xeb) ? 'jmp' : undefined;
}

/** Jcc, JMP rel, LOOP*, JrCXZ: may go back to the block's start (and cannot change TF or modes). */
function isRelativeBranch(insn: Instruction): boolean {
  if (directBranch(insn) !== undefined) return true;
  return insn.vex === 0 && insn.map === 0 && insn.opcode >= 0xe0 && insn.opcode <= 0xe3;
}

/**
 * Whether the block ends in a relative branch whose target is its own start: only then does its
 * function loop (a loop's phis for every register local, and the engine's peeling of it, cost
 * TurboFan about as much as the block itself). Another block's start goes back to the run loop.
 */
function branchesToStart(insns: readonly Instruction[]): boolean {
  const last = insns[insns.length - 1]!;
  if (!isRelativeBranch(last)) return false;
  let at = 0;
  for (let k = 0; k < insns.length - 1; k++) at += insns[k]!.length;
  return at + last.length + (last.imm | 0) === 0;
}

/**
 * Whether an instruction may write guest memory (and so drop decoded code): anything but a
 * register-form ModRM instruction, and FF /6 PUSH r/m pushes even in register form.
 */
function mayWriteMemory(insn: Instruction): boolean {
  return !(insn.hasModrm && insn.mod === 3) || (insn.map === 0 && insn.opcode === 0xff);
}
