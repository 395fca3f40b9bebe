/** Helpers the form tables are built with: a handler from a lane loop, and the common XMM form. */
import { FpContext } from './context.js';
import type { FloatEnv, SseFloatForm } from './form.js';
import type { FloatFormat } from './format.js';

export type FormEntry = readonly [key: string, form: SseFloatForm];

type Run = SseFloatForm['run'];
export type Lanes = (ctx: FpContext, dst: Uint8Array, src: Uint8Array, imm8: number, out: Uint8Array) => void;

/** A handler from a lane loop: one FpContext per instruction, its raised() flags returned. */
export function handler(lanes: Lanes): Run {
  return (env: FloatEnv, dst, src, imm8, out) => {
    const ctx = new FpContext(env.mxcsr);
    lanes(ctx, dst, src, imm8, out);
    return ctx.raised();
  };
}

/** An XMM <- XMM/m form; the defaults of the common case. */
export function xmmForm(mnemonic: string, memSize: 4 | 8 | 16, readsDst: boolean, lanes: Lanes, imm8 = false): SseFloatForm {
  return { mnemonic, dst: 'xmm', src: 'xmm', memSize, aligned: memSize === 16, registerOnly: false, readsDst, imm8, writes: 'dst', run: handler(lanes) };
}

/** Lanes in a 16-byte register of format f. */
export function lanesOf(f: FloatFormat): number {
  return 16 / f.bytes;
}
