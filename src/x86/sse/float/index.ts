/**
 * SSE/SSE2/SSE3/SSE4.1 floating-point semantics, exact to hardware, on register images: no CPU
 * state is touched, so the SSE dispatcher (src/x86/sse) wires these into the executor.
 *
 * Table: SSE_FLOAT_FORMS, keyed by mandatory prefix ('' | '66' | 'f3' | 'f2') + ':' + opcode map
 * (1 = 0F, 2 = 0F38, 3 = 0F3A) + ':' + opcode in lower-case hex, e.g. '66:1:58' = ADDPD. Forms
 * whose general-register operand is 64-bit under REX.W have a second entry with '/w1' appended
 * (e.g. 'f3:1:2a/w1' = CVTSI2SS xmm, r/m64); the key without it is the REX.W = 0 form.
 *
 * Calling protocol, for form = SSE_FLOAT_FORMS.get(key):
 *   dst  the ModRM.reg register's image (XMM 16 bytes, MMX 8, GPR 8), needed when form.readsDst
 *        (and for COMIS, whose ModRM.reg operand is only read).
 *   src  the ModRM.rm operand: a register's image, or form.memSize bytes read from memory
 *        (#GP(0) first when form.aligned and the address is not 16-byte aligned; #UD for a memory
 *        operand when form.registerOnly). A GPR source is its value, little-endian, gprBytes long.
 *   imm8 the immediate when form.imm8 (else ignored).
 *   out  a 16-byte scratch image the handler writes the result to (see SseFloatForm.run).
 *   raised = form.run({ mxcsr }, dst, src, imm8, out)   // MXCSR exception flag bits 0..5
 * then:
 *   mxcsr |= raised                         (always: hardware sets the flags even when it faults)
 *   if (raised & unmaskedExceptions(mxcsr)) -> #XM (vector 19), or #UD when CR4.OSXMMEXCPT is 0;
 *                                              the destination (and EFLAGS) stay unchanged
 *   else commit out: XMM dst <- out[0..16); MMX dst <- out[0..8); GPR dst <- out[0..gprBytes)
 *        (a 4-byte GPR write zero-extends as usual); writes = 'eflags': EFLAGS =
 *        (EFLAGS & ~COMIS_EFLAGS_MASK) | uint32 out[0..4).
 * Which flags `raised` holds when an exception is unmasked follows the hardware: when any lane
 * raises an unmasked pre-computation exception (IE, DE, ZE), the post-computation ones (OE, UE,
 * PE) are not reported, but the pre-computation flags of every lane are; otherwise all lanes'
 * flags are. Two refinements read from the reference CPU: an unmasked overflow or underflow
 * reports PE only when the result rounded to the format's precision (exponent unbounded) is
 * inexact; DPPS/DPPD report their steps (products, then each level of sums) like separate
 * instructions, a step with an unmasked exception ending the instruction.
 * form.mmxTransition says when the dispatcher must also make the x87-to-MMX transition.
 * Exception priorities within a lane (also from the reference CPU): a NaN operand outranks DE;
 * SQRT of a negative operand raises IE without DE; x/0 raises ZE without DE; MIN/MAX raise IE on
 * any NaN; conversions to integers and ROUND never raise DE.
 *
 * Exactness: a lane is computed exactly with integer significands (bigint) and rounded once
 * (round.ts), or, when operands and result are safely normal, in doubles with error-free
 * transformations giving the rounding error's sign (fast.ts, fast-lanes.ts): the four rounding
 * modes, FTZ (flush of tiny results when UE is masked), DAZ (subnormal operands read as zeros,
 * without DE), tininess after rounding, NaN propagation (first source operand first, SNaN quieted,
 * QNaN indefinite for invalid operations), integer indefinite on invalid conversions. RCP/RSQRT
 * reproduce the reference CPU's tables (approx-tables.ts). Checked against the host CPU by
 * test/sse-float/native-diff.test.ts and approx.test.ts.
 */
import { ARITH_FORMS } from './forms-arith.js';
import { COMPARE_FORMS } from './forms-compare.js';
import { CONVERT_FORMS } from './forms-convert.js';
import { SSE3_SSE41_FORMS } from './forms-sse3-sse41.js';
import type { SseFloatForm } from './form.js';

export type { FloatEnv, OperandKind, SseFloatForm } from './form.js';
export { COMIS_EFLAGS_MASK } from './forms-compare.js';
export * from './mxcsr.js';

function buildTable(): ReadonlyMap<string, SseFloatForm> {
  const table = new Map<string, SseFloatForm>();
  for (const [key, form] of [...ARITH_FORMS, ...SSE3_SSE41_FORMS, ...COMPARE_FORMS, ...CONVERT_FORMS]) {
    if (table.has(key)) throw new Error(`SSE float table: ${key} listed twice (${table.get(key)?.mnemonic}, ${form.mnemonic})`);
    table.set(key, form);
  }
  return table;
}

export const SSE_FLOAT_FORMS: ReadonlyMap<string, SseFloatForm> = buildTable();
