/**
 * The SSE/MMX layer: legacy-encoded MMX, SSE..SSE4.2 instructions other than floating-point
 * arithmetic, run over a VectorContext (context.ts). The decoder reports these forms as 'sse'
 * (plus 'emms' and 'movnti'); this dispatcher finds the form by (map, opcode, mandatory prefix,
 * ModRM.reg for groups) in the data table (form.ts, filled by the ops-*.ts files) and runs it.
 *
 *   executeVector(ctx, insn) -> undefined when executed (RIP advanced), or the name of a
 *   floating-point form that exists on the modelled CPU but is not implemented here.
 * Throws X86Fault for #UD (forms the model lacks: 3DNow!, SSE4a, AES, SHA, PCLMULQDQ, VEX/EVEX/
 * XOP encodings, unknown opcodes; LOCK; CR0.EM; CR4.OSFXSR clear), #NM (CR0.TS), #MF, #GP
 * (alignment, segment limits) and #PF (through ctx.read/write).
 */
import { X86Fault } from '../exec/context.js';
import { advance } from '../exec/address.js';
import type { Instruction } from '../instruction.js';
import { checkAvailable, emms, Uses } from './context.js';
import type { VectorContext } from './context.js';
import { FLOAT_NAMES } from './float-names.js';
import { formKey, prefixIndex, SLOTS } from './form.js';
import type { Slot } from './form.js';
import { runForm } from './run-form.js';
import { floatKey, runFloatForm } from './float-hook.js';
import type { FloatFormShape } from './float-hook.js';
import { SSE_FLOAT_FORMS } from './float/index.js';
import './ops-move.js';
import './ops-int.js';
import './ops-ssse3.js';
import './ops-sse41.js';
import './ops-string.js';

export type { VectorContext } from './context.js';

/* The floating-point forms (src/x86/sse/float/) are wired in here and only here. The table is
 * consulted after the integer table; float-hook.ts runs its forms by that module's protocol.
 * Forms it lacks still end in FLOAT_NAMES' "not implemented" result. */
const FLOAT_TABLE: ReadonlyMap<string, FloatFormShape> = SSE_FLOAT_FORMS;
/* ========================================================================================== */

/** Decoder mnemonics of encodings the modelled CPU lacks: #UD, with the reason. */
const UNSUPPORTED = new Map<string, string>([
  ['3dnow', '3DNow! is not part of the modelled CPU'],
  ['femms', '3DNow! is not part of the modelled CPU'],
  ['extrq', 'SSE4a is not part of the modelled CPU'],
  ['insertq', 'SSE4a is not part of the modelled CPU'],
  ['vex', 'VEX encodings (AVX) are not part of the modelled CPU'],
  ['evex', 'EVEX encodings (AVX-512) are not part of the modelled CPU'],
  ['xop', 'XOP encodings are not part of the modelled CPU'],
]);

export const VECTOR_MNEMONICS: readonly string[] = ['sse', 'emms', 'movnti', ...UNSUPPORTED.keys()];

export function executeVector(ctx: VectorContext, insn: Instruction): string | undefined {
  const why = UNSUPPORTED.get(insn.mnemonic);
  if (why !== undefined) throw new X86Fault(6, undefined, `${insn.mnemonic}: ${why}`);
  if (insn.lock) throw new X86Fault(6, undefined, 'lock prefix not allowed on SSE/MMX instructions');
  if (insn.mnemonic === 'emms') {
    checkAvailable(ctx, Uses.Mmx, 'emms');
    emms(ctx);
    advance(ctx, insn);
    return undefined;
  }
  const key = formKey(insn.map, insn.opcode, prefixIndex(insn), insn.reg);
  const form = pick(SLOTS.get(key), insn);
  if (form !== undefined) {
    runForm(ctx, insn, form);
    return undefined;
  }
  const floatForm = FLOAT_TABLE.size === 0 ? undefined : FLOAT_TABLE.get(floatKey(insn, FLOAT_TABLE));
  if (floatForm !== undefined) {
    runFloatForm(ctx, insn, floatForm);
    return undefined;
  }
  const floatName = FLOAT_NAMES.get(key);
  if (floatName !== undefined) return floatName;
  throw new X86Fault(6, undefined, `undefined SSE/MMX form: map ${insn.map} opcode 0x${insn.opcode.toString(16)} ` +
    `prefix ${['none', '66', 'F3', 'F2'][prefixIndex(insn)]} ModRM.reg ${insn.reg & 7} ${insn.mod === 3 ? 'register' : 'memory'} form`);
}

function pick(slot: Slot | undefined, insn: Instruction): Slot['reg'] {
  if (slot === undefined) return undefined;
  return insn.mod === 3 ? slot.reg : slot.mem;
}

/**
 * The Intel mnemonic of a decoded legacy SSE/MMX form ('pxor', 'movdqa', 'addps'...), which the
 * decoder reports only as 'sse'; undefined for encodings the model has no form for.
 */
export function vectorFormName(insn: Instruction): string | undefined {
  if (insn.vex !== 0) return undefined;
  if (insn.mnemonic === 'emms') return 'emms';
  const key = formKey(insn.map, insn.opcode, prefixIndex(insn), insn.reg);
  return pick(SLOTS.get(key), insn)?.name ?? FLOAT_TABLE.get(floatKey(insn, FLOAT_TABLE))?.mnemonic ?? FLOAT_NAMES.get(key);
}

/**
 * Whether a block-building runner may run insn inside a straight-line block through
 * compileVector: the 'sse' forms, except MASKMOVQ/MASKMOVDQU, whose register form writes memory
 * (DS:rDI) where a block runner checking only memory-form instructions for code writes would not look.
 */
export function vectorRunsInBlock(insn: Instruction): boolean {
  return insn.mnemonic === 'sse' && insn.vex === 0 && !(insn.map === 1 && insn.opcode === 0xf7);
}

/**
 * For a runner that caches decoded code (the soft CPU's blocks): the form resolved once, as a
 * function of the context alone. It returns false, changing nothing, where executeVector would
 * report a float form as not implemented (the caller's slow path then reports it). Forms with
 * no table entry fault the same way executeVector does.
 */
export function compileVector(insn: Instruction): (ctx: VectorContext) => boolean {
  const form = insn.mnemonic === 'sse' && !insn.lock ? pick(SLOTS.get(formKey(insn.map, insn.opcode, prefixIndex(insn), insn.reg)), insn) : undefined;
  if (form !== undefined) return (ctx) => { runForm(ctx, insn, form); return true; };
  const floatForm = insn.mnemonic === 'sse' && !insn.lock && FLOAT_TABLE.size !== 0 ? FLOAT_TABLE.get(floatKey(insn, FLOAT_TABLE)) : undefined;
  if (floatForm !== undefined) return (ctx) => { runFloatForm(ctx, insn, floatForm); return true; };
  return (ctx) => executeVector(ctx, insn) === undefined;
}
