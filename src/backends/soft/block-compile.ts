/**
 * Hot straight-line blocks (cpu.ts Block) become one JS function that runs the block's
 * instructions in order: the hot forms as straight-line code over the executor's helpers, whose
 * bodies it copies in (block-inline.ts, helper-inline.ts), the rest through their compiled
 * closures (src/x86/exec/compile.ts); the instructions' semantics stay written once, in
 * src/x86/exec. Each block's function is a separate script, so each closure call inside it sees
 * exactly one target (one shared loop over fns[k] would be a megamorphic call).
 *
 * A block ending in a relative branch runs again while the branch goes back to its start (a
 * loop), as long as no decoded code was dropped and the whole block fits in the budget again.
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
import { BLOCK_HELPERS, canonicalText, conditionText, deadRecords, DECLINE, inlineInsn, pop64, push64, RSP, SLOW_ENTER, SLOW_LEAVE, SLOW_LEAVE_WRITE } from './block-inline.js';
import { poolLocals } from './pooled-locals.js';
import type { SoftCpu } from './cpu.js';

export type BlockFn = (cpu: SoftCpu, budget: number) => number;

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
 * After a block function returned r < 0 (a decline) from a call that began with cpu.instret =
 * before: adds the instructions it retired since its last count, moves RIP from the block's
 * start to the declined instruction (a block lies in one page: no carry into the high half) and
 * returns that instruction's index in the block.
 */
export function settleDecline(cpu: { instret: number; regs: Int32Array }, insns: readonly Instruction[], before: number, r: number): number {
  cpu.instret += -r - 1;
  const i = (cpu.instret - before) % insns.length;
  let at = 0;
  for (let j = 0; j < i; j++) at += insns[j]!.length;
  cpu.regs[RIP_LO] = (cpu.regs[RIP_LO]! + at) | 0;
  return i;
}

/** undefined when the host forbids code generation from strings: blocks then run uncompiled. */
export function compileBlock(insns: readonly Instruction[], fns: readonly Compiled[]): BlockFn | undefined {
  if (!codegenAllowed) return undefined;
  const lines: string[] = [];
  for (let k = 0; k < fns.length; k++) lines.push(`const f${k} = fns[${k}], I${k} = insns[${k}];`);
  for (const name of Object.keys(BLOCK_HELPERS)) lines.push(`const ${name} = helpers.${name};`);
  lines.push(`return ${blockFunctionText(insns, true)};`);
  return instantiate(lines, fns, insns);
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
  const loops = isRelativeBranch(insns[n - 1]!);
  const body: string[] = [];
  const memory = blockStatements(insns, body);
  if (loops) body.push(`    if ($g${RIP_LO} !== s0 || $g${RIP_LO + 1} !== s1 || cpu.codeGen !== g || k + ${n} > budget) return k;`);
  const pooled = pool ? poolLocals(body) : { groups: body, pool: [] };
  const { text, cached, save } = registersInLocals(pooled.groups.join('\n'));
  const lines = ['function block(cpu, budget) {', '  const g = cpu.codeGen;', '  let k = 0, live = true;'];
  if (pooled.pool.length !== 0) lines.push(`  let ${pooled.pool.join(', ')};`);
  lines.push(`  const rf = cpu.regs, s0 = rf[${RIP_LO}], s1 = rf[${RIP_LO + 1}];`);
  if (cached.length !== 0) lines.push(`  let ${cached.map((i) => `$g${i} = rf[${i}]`).join(', ')};`);
  // Inlined memory accesses probe the TLB through these (CPL cannot change inside a block: what
  // changes it is a system instruction, which ends the block).
  if (memory) {
    lines.push('  const tlb = cpu.tlb, tlbBase = tlb.base, tlbI32 = tlb.i32, tlbU16 = tlb.u16, tlbU8 = tlb.u8;',
      '  const tlbR = cpu.cpl === 3 ? tlb.readU : tlb.readS, tlbW = cpu.cpl === 3 ? tlb.writeU : tlb.writeS;');
  }
  // The segments' bases and fast limits the inlined accesses use, read once: only system
  // instructions load segments or change modes, and those end the block.
  const segments = [...new Set(text.match(/\$s(?:Base|Read|Write)\d/g))].sort();
  const SEG_FIELD = { Base: 'segBase', Read: 'segReadMax', Write: 'segWriteMax' } as const;
  if (segments.length !== 0) {
    lines.push(`  const ${segments.map((v) => `${v} = cpu.${SEG_FIELD[v.slice(2, -1) as keyof typeof SEG_FIELD]}[${v.slice(-1)}]`).join(', ')};`);
  }
  lines.push('  try {');
  if (loops) lines.push('    for (;;) {');
  lines.push(text);
  lines.push(loops ? '    }' : '    return k;');
  lines.push('  } finally {', `    if (live) { ${save} }`, '    cpu.instret += k;', '  }', '}');
  return lines.join('\n');
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

type Factory = (fns: readonly Compiled[], insns: readonly Instruction[], helpers: typeof BLOCK_HELPERS) => BlockFn;

/** Runs the generated factory text; undefined when code generation from strings is disallowed. */
function instantiate(lines: readonly string[], fns: readonly Compiled[], insns: readonly Instruction[]): BlockFn | undefined {
  let factory: Factory;
  try {
    factory = new Function('fns', 'insns', 'helpers', lines.join('\n')) as Factory;
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
function blockStatements(insns: readonly Instruction[], lines: string[]): boolean {
  let memory = false;
  const n = insns.length, mode = insns[0]!.mode;
  const dead = mode === 16 ? [] : deadRecords(insns);
  let off = 0, pending = 0, ripStale = false;
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
      const jcc = inlineJcc(insn, `f${k}`, off, end);
      if (jcc !== undefined) {
        flush();
        lines.push(`    ${jcc}`, '    k++;');
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
    const form = mode === 16 ? undefined : inlineInsn(insn, `I${k}`, end, dead[k]);
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
      const run = `if (!f${k}(cpu)) { live = true; ${decline(0)} }`;
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
 * A block-ending Jcc rel or JMP rel at block offset off (end: the next instruction's offset)
 * with the mode's default operand size, as statements that set RIP; in 64-bit code a target
 * whose low half carries into the high half goes to its closure (which also checks canonicality).
 */
function inlineJcc(insn: Instruction, closure: string, off: number, end: number): string | undefined {
  const op = insn.opcode;
  const isJcc = insn.vex === 0 && ((insn.map === 0 && op >= 0x70 && op <= 0x7f) || (insn.map === 1 && op >= 0x80 && op <= 0x8f));
  const isJmp = insn.vex === 0 && insn.map === 0 && (op === 0xe9 || op === 0xeb);
  if (!isJcc && !isJmp) return undefined;
  const target = end + (insn.imm | 0);
  let branch: (taken: string) => string;
  if (insn.mode === 32 && insn.opSize === 4) {
    branch = (taken) => `$g${RIP_LO} = (s0 + (${taken} ? ${target} : ${end})) | 0; $g${RIP_LO + 1} = 0;`;
  } else if (insn.mode === 64 && insn.opSize === 8) {
    branch = (taken) => `{ const t = (s0 >>> 0) + (${taken} ? ${target} : ${end});` +
      ` if (t >= 0 && t <= 0xffffffff) $g${RIP_LO} = t | 0; else { $g${RIP_LO} = (s0 + ${off}) | 0; ${closureCall(`${closure}(cpu);`)} } }`;
  } else {
    return undefined;
  }
  return isJmp ? branch('true') : conditionText(op & 15, branch);
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

/** Jcc, JMP rel, LOOP*, JrCXZ: may go back to the block's start (and cannot change TF or modes). */
function isRelativeBranch(insn: Instruction): boolean {
  const op = insn.opcode;
  if (insn.vex !== 0) return false;
  if (insn.map === 1) return op >= 0x80 && op <= 0x8f;
  return insn.map === 0 && ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op === 0xe9 || op === 0xeb);
}

/**
 * Whether an instruction may write guest memory (and so drop decoded code): anything but a
 * register-form ModRM instruction, and FF /6 PUSH r/m pushes even in register form.
 */
function mayWriteMemory(insn: Instruction): boolean {
  return !(insn.hasModrm && insn.mod === 3) || (insn.map === 0 && insn.opcode === 0xff);
}
