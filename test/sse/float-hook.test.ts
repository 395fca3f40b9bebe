/**
 * The adapter that runs the float module's forms (src/x86/sse/float-hook.ts), with stand-in
 * forms of the same shape: operand images, MXCSR flags always merged, #XM (or #UD with
 * CR4.OSXMMEXCPT clear) on an unmasked exception with the destination untouched, EFLAGS and
 * GPR commits, register-only forms, alignment, and the x87 -> MMX transition rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { CF, X86Fault, ZF } from '../../src/x86/exec/context.js';
import { floatKey, runFloatForm } from '../../src/x86/sse/float-hook.js';
import type { FloatFormShape } from '../../src/x86/sse/float-hook.js';
import { FlatVectorContext } from './vector-context.js';

const MEM = 0x1000;
const IE = 1, PE = 0x20;

/** A stand-in "add the low dwords as integers" form that raises the given flags. */
function fake(over: Partial<FloatFormShape>, raises = 0): FloatFormShape {
  return {
    mnemonic: 'fakeadd', dst: 'xmm', src: 'xmm', memSize: 16, aligned: true, registerOnly: false, readsDst: true,
    imm8: false, writes: 'dst',
    run(_env, dst, src, _imm, out) {
      const v = new DataView(out.buffer, out.byteOffset);
      v.setUint32(0, (new DataView(dst.buffer, dst.byteOffset).getUint32(0, true) + new DataView(src.buffer, src.byteOffset).getUint32(0, true)) >>> 0, true);
      return raises;
    },
    ...over,
  };
}

function ctxWith(): FlatVectorContext {
  const c = new FlatVectorContext(new Uint8Array(256), MEM);
  c.rip = 0x400000n;
  c.xmm[0]!.set([1, 0, 0, 0]);
  c.xmm[1]!.set([2, 0, 0, 0]);
  return c;
}
const insn = (hex: string) => decode(new Uint8Array(Buffer.from(hex, 'hex')), 64);

test('keys: prefix:map:opcode (two hex digits), /w1 for a listed REX.W form', () => {
  const table = new Map([['f3:1:2a', fake({})], ['f3:1:2a/w1', fake({})]]);
  assert.equal(floatKey(insn('0f58c1'), table), ':1:58');
  assert.equal(floatKey(insn('660f3a08c100'), table), '66:3:08');
  assert.equal(floatKey(insn('f3480f2ac0'), table), 'f3:1:2a/w1');
  assert.equal(floatKey(insn('f30f2ac0'), table), 'f3:1:2a');
});

test('a masked exception sets MXCSR flags and commits; an unmasked one is #XM (or #UD) with nothing committed', () => {
  const c = ctxWith();
  runFloatForm(c, insn('0f58c1'), fake({}, PE));
  assert.equal(c.xmm[0]![0], 3);
  assert.equal(c.mxcsr, 0x1f80 | PE);
  assert.equal(c.rip, 0x400003n);

  const d = ctxWith();
  d.mxcsr = 0x1f80 & ~(IE << 7);
  d.cr4 &= ~(1 << 10);
  assert.throws(() => runFloatForm(d, insn('0f58c1'), fake({}, IE | PE)), (e: unknown) => e instanceof X86Fault && e.vector === 6, 'OSXMMEXCPT clear: #UD');
  assert.equal(d.xmm[0]![0], 1, 'destination untouched');
  assert.equal(d.mxcsr & 0x3f, IE | PE, 'flags set even when it faults');
  d.cr4 |= 1 << 10;
  assert.throws(() => runFloatForm(d, insn('0f58c1'), fake({}, IE)), (e: unknown) => e instanceof X86Fault && e.vector === 19, '#XM');
  assert.equal(d.rip, 0x400000n);
});

test('EFLAGS and GPR destinations, register-only forms, alignment, MMX transition', () => {
  const c = ctxWith();
  const comis = fake({ writes: 'eflags', run: (_e, _d, _s, _i, out) => { out[0] = ZF | CF; return 0; } });
  c.flags = 0x8d5 | 2;
  runFloatForm(c, insn('0f2fc1'), comis);
  assert.equal(c.flags & 0x8d5, ZF | CF);

  c.set(0, -1n);
  runFloatForm(c, insn('f30f2dc1'), fake({ dst: 'gpr', gprBytes: 4 }));
  assert.equal(c.get(0), 1n, 'EAX image 0xffffffff + 2 = 1 in 32 bits; the 4-byte write zero-extends');

  assert.throws(() => runFloatForm(c, insn('0f50042500100000'), fake({ registerOnly: true })), (e: unknown) => e instanceof X86Fault && e.vector === 6);
  assert.throws(() => runFloatForm(c, insn('0f58042508100000'), fake({})), (e: unknown) => e instanceof X86Fault && e.vector === 13);
  const ok = ctxWith();
  runFloatForm(ok, insn('f30f58042508100000'), fake({ aligned: false, memSize: 4 }));
  assert.equal(ok.xmm[0]![0], 1, 'mem reads zeros: 1 + 0');

  const m = ctxWith();
  m.fsw = 5 << 11;
  runFloatForm(m, insn('0f2ac1'), fake({ src: 'mmx', mmxTransition: 'always' }));
  assert.equal(m.top, 0);
  assert.equal(m.ftw, 0xff);
  const r = ctxWith();
  r.fsw = 5 << 11;
  runFloatForm(r, insn('660f2a042500100000'), fake({ src: 'mmx', memSize: 8, aligned: false, mmxTransition: 'register' }));
  assert.equal(r.top, 5, 'CVTPI2PD m64: no transition');
  runFloatForm(r, insn('660f2ac1'), fake({ src: 'mmx', mmxTransition: 'register' }));
  assert.equal(r.top, 0, 'CVTPI2PD mm: transition');
});
