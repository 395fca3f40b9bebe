/**
 * The table's promises to the dispatcher, checked on every form: a memory source is read only
 * for its memSize bytes, a destination is not read unless readsDst says so, flags stay within
 * MXCSR bits 0..5, and every instruction the SSE float work covers is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSE_FLOAT_FORMS } from '../../src/x86/sse/float/index.js';
import { Rng, testSeed } from '../exec/rng.js';

const random = (rng: Rng): Uint8Array => Uint8Array.from({ length: 16 }, () => rng.int(256));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('every form reads only memSize bytes of its source and dst only when readsDst', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  for (const [key, form] of SSE_FLOAT_FORMS) {
    for (let n = 0; n < 200; n++) {
      const mxcsr = (rng.int(4) << 13) | (rng.int(2) ? 0x8040 : 0) | 0x1f80;
      const dst = random(rng), src = random(rng), imm = rng.int(256);
      const out1 = new Uint8Array(16), out2 = new Uint8Array(16);
      const f1 = form.run({ mxcsr }, dst, src, imm, out1);
      assert.equal(f1 & ~0x3f, 0, `${key} ${form.mnemonic}: raised ${f1}`);
      const size = form.src === 'gpr' ? form.gprBytes ?? 4 : form.memSize;
      if (!form.registerOnly) {
        const src2 = src.slice();
        src2.fill(0xa5, size);
        const f2 = form.run({ mxcsr }, dst, src2, imm, out2);
        assert.deepEqual([f2, hex(out2)], [f1, hex(out1)], `seed ${seed}: ${key} ${form.mnemonic} reads past its ${size}-byte source`);
      }
      if (!form.readsDst) {
        const f3 = form.run({ mxcsr }, random(rng), src, imm, out2);
        assert.deepEqual([f3, hex(out2)], [f1, hex(out1)], `seed ${seed}: ${key} ${form.mnemonic} reads its destination`);
      }
    }
  }
});

test('the table covers the SSE/SSE2/SSE3/SSE4.1 floating-point instructions', () => {
  const have = new Set([...SSE_FLOAT_FORMS.values()].map((f) => f.mnemonic));
  const want = [
    ...['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt', 'cmp'].flatMap((op) => ['ps', 'ss', 'pd', 'sd'].map((s) => op + s)),
    'rcpps', 'rcpss', 'rsqrtps', 'rsqrtss', 'comiss', 'comisd', 'ucomiss', 'ucomisd',
    'cvtps2pd', 'cvtpd2ps', 'cvtss2sd', 'cvtsd2ss', 'cvtdq2ps', 'cvtps2dq', 'cvttps2dq', 'cvtdq2pd', 'cvtpd2dq', 'cvttpd2dq',
    'cvtsi2ss', 'cvtsi2sd', 'cvtss2si', 'cvttss2si', 'cvtsd2si', 'cvttsd2si',
    'cvtpi2ps', 'cvtps2pi', 'cvttps2pi', 'cvtpi2pd', 'cvtpd2pi', 'cvttpd2pi', 'movmskps', 'movmskpd',
    'addsubps', 'addsubpd', 'haddps', 'haddpd', 'hsubps', 'hsubpd',
    'roundps', 'roundpd', 'roundss', 'roundsd', 'dpps', 'dppd',
  ];
  assert.deepEqual(want.filter((m) => !have.has(m)), []);
  for (const k of ['f3:1:2a', 'f3:1:2a/w1', 'f2:1:2d', 'f2:1:2d/w1', 'f3:1:2c/w1']) assert.ok(SSE_FLOAT_FORMS.has(k), k);
  assert.equal(SSE_FLOAT_FORMS.get('66:1:58')?.mnemonic, 'addpd');
  assert.equal(SSE_FLOAT_FORMS.get('f2:1:2d/w1')?.gprBytes, 8);
});
