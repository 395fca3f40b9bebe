/**
 * The x87 escapes D8-DF (Intel SDM vol. 2, Appendix A.4) as data. Memory forms are named with
 * their operand size (m32fp, m64int, m80...); register forms are decoded for length under the
 * generic 'x87', except the control instructions a CPU model needs by name (FNINIT, FNCLEX,
 * FNSTSW AX).
 */
import type { Entry, EntrySource } from './opcode-entry.js';
import { byRm, group } from './opcode-entry.js';

const X87 = 'x87';
const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
const INT_ARITH = ARITH.map((m) => m.replace('f', 'fi'));

function sized(names: readonly (string | null)[], sizes: readonly string[]): EntrySource[] {
  return names.map((n, i) => (n === null ? null : `${n} M${sizes[i]}`));
}

const all = (size: string): string[] => Array<string>(8).fill(size);
const GENERIC_REG: EntrySource[] = Array<EntrySource>(8).fill(X87);

/** D8..DF, in order. */
export const X87_MAP: Entry[] = [
  group(sized(ARITH, all('d')), GENERIC_REG),
  group(sized(['fld', null, 'fst', 'fstp', 'fldenv', 'fldcw', 'fnstenv', 'fnstcw'], ['d', '', 'd', 'd', '', 'w', '', 'w']), GENERIC_REG),
  group(sized(INT_ARITH, all('d')), GENERIC_REG),
  group(
    sized(['fild', 'fisttp', 'fist', 'fistp', null, 'fld', null, 'fstp'], ['d', 'd', 'd', 'd', '', 't', '', 't']),
    [X87, X87, X87, X87, byRm([X87, X87, 'fnclex', 'fninit', X87, X87, X87, X87]), X87, X87, X87],
  ),
  group(sized(ARITH, all('q')), GENERIC_REG),
  group(sized(['fld', 'fisttp', 'fst', 'fstp', 'frstor', null, 'fnsave', 'fnstsw'], ['q', 'q', 'q', 'q', '', '', '', 'w']), GENERIC_REG),
  group(sized(INT_ARITH, all('w')), GENERIC_REG),
  group(
    sized(['fild', 'fisttp', 'fist', 'fistp', 'fbld', 'fild', 'fbstp', 'fistp'], ['w', 'w', 'w', 'w', 't', 'q', 't', 'q']),
    [X87, X87, X87, X87, byRm(['fnstsw AX', X87, X87, X87, X87, X87, X87, X87]), X87, X87, X87],
  ),
];
