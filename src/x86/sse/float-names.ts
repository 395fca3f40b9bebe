/**
 * The floating-point arithmetic forms (SSE..SSE4.1) by table key, with their names. This layer
 * does not implement them (src/x86/sse/float/ will): the dispatcher reports one of these as
 * "not implemented" (the soft CPU: an 'invalid' exit naming it) rather than #UD, because the
 * modelled CPU does have them.
 */
import { formKey, NP, P66, PF2, PF3 } from './form.js';

/** [map, opcode, names by prefix none/66/F3/F2 (null: no such form)]. */
const ROWS: [number, number, (string | null)[]][] = [
  [1, 0x2a, ['cvtpi2ps', 'cvtpi2pd', 'cvtsi2ss', 'cvtsi2sd']],
  [1, 0x2c, ['cvttps2pi', 'cvttpd2pi', 'cvttss2si', 'cvttsd2si']],
  [1, 0x2d, ['cvtps2pi', 'cvtpd2pi', 'cvtss2si', 'cvtsd2si']],
  [1, 0x2e, ['ucomiss', 'ucomisd', null, null]],
  [1, 0x2f, ['comiss', 'comisd', null, null]],
  [1, 0x51, ['sqrtps', 'sqrtpd', 'sqrtss', 'sqrtsd']],
  [1, 0x52, ['rsqrtps', null, 'rsqrtss', null]],
  [1, 0x53, ['rcpps', null, 'rcpss', null]],
  [1, 0x58, ['addps', 'addpd', 'addss', 'addsd']],
  [1, 0x59, ['mulps', 'mulpd', 'mulss', 'mulsd']],
  [1, 0x5a, ['cvtps2pd', 'cvtpd2ps', 'cvtss2sd', 'cvtsd2ss']],
  [1, 0x5b, ['cvtdq2ps', 'cvtps2dq', 'cvttps2dq', null]],
  [1, 0x5c, ['subps', 'subpd', 'subss', 'subsd']],
  [1, 0x5d, ['minps', 'minpd', 'minss', 'minsd']],
  [1, 0x5e, ['divps', 'divpd', 'divss', 'divsd']],
  [1, 0x5f, ['maxps', 'maxpd', 'maxss', 'maxsd']],
  [1, 0x7c, [null, 'haddpd', null, 'haddps']],
  [1, 0x7d, [null, 'hsubpd', null, 'hsubps']],
  [1, 0xc2, ['cmpps', 'cmppd', 'cmpss', 'cmpsd']],
  [1, 0xd0, [null, 'addsubpd', null, 'addsubps']],
  [1, 0xe6, [null, 'cvttpd2dq', 'cvtdq2pd', 'cvtpd2dq']],
  [3, 0x08, [null, 'roundps', null, null]],
  [3, 0x09, [null, 'roundpd', null, null]],
  [3, 0x0a, [null, 'roundss', null, null]],
  [3, 0x0b, [null, 'roundsd', null, null]],
  [3, 0x40, [null, 'dpps', null, null]],
  [3, 0x41, [null, 'dppd', null, null]],
];

export const FLOAT_NAMES = new Map<number, string>();
for (const [map, opcode, names] of ROWS) {
  [NP, P66, PF3, PF2].forEach((p, k) => {
    const name = names[k];
    if (name) FLOAT_NAMES.set(formKey(map, opcode, p, 0), name);
  });
}
