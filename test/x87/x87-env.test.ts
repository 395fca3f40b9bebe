/**
 * The x87 environment layouts of FNSTENV/FLDENV/FNSAVE/FRSTOR that the native differential
 * test cannot reach (it runs in 64-bit mode: only the 28-byte protected-mode layout): the
 * real-mode layouts with their 20/32-bit linear pointers, run by a real-mode soft vCPU, and
 * store/load round trips of all four layouts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realModeState } from '../../src/x86/boot-state.js';
import { loadEnv, storeEnv, type EnvLayout } from '../../src/x86/x87-exec/env-image.js';
import type { X87File } from '../../src/x86/x87-exec/regs.js';
import { runLogged, softVm } from '../soft/vm.js';

test('real mode: FNSTENV (16- and 32-bit) holds the linear FIP/FDP split around the opcode', () => {
  const vm = softVm();
  // CS = 0x123, IP = 0x10 (linear 0x1240): fninit; fld1; fld dword [0x300]; fnstenv [0x2000]; o32 fnstenv [0x2100]; hlt
  const code = [0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0x06, 0x00, 0x03, 0xd9, 0x36, 0x00, 0x20, 0x66, 0xd9, 0x36, 0x00, 0x21, 0xf4];
  vm.ram.set(code, 0x1240);
  vm.cpu.setState(realModeState(0x123, 0x10, 0x8000));
  assert.equal(runLogged(vm.cpu).end.reason, 'halted');
  // realModeState puts DS at the code segment too: base 0x1230.
  const dv = new DataView(vm.ram.buffer, 0x1230);
  const fldAt = 0x1240 + 4; // linear address of the FLD m32 (D9 /0, ModRM 06: FOP 0x106)
  const operand = 0x1230 + 0x300; // linear
  // TOP 6: physical 6 = +0.0 (zero), 7 = 1.0 (valid), the rest empty.
  const tags = 0x0fff | (1 << 12);
  // 14-byte layout (Intel SDM vol. 1, Figure 8-10).
  assert.equal(dv.getUint16(0x2000 + 0, true), 0x37f);
  assert.equal(dv.getUint16(0x2000 + 2, true), 6 << 11);
  assert.equal(dv.getUint16(0x2000 + 4, true), tags);
  assert.equal(dv.getUint16(0x2000 + 6, true), fldAt & 0xffff);
  assert.equal(dv.getUint16(0x2000 + 8, true), ((fldAt >>> 16) << 12) | 0x106);
  assert.equal(dv.getUint16(0x2000 + 10, true), operand & 0xffff);
  assert.equal(dv.getUint16(0x2000 + 12, true), (operand >>> 16) << 12);
  // 28-byte layout (Figure 8-11).
  assert.equal(dv.getUint16(0x2100 + 8, true), tags);
  assert.equal(dv.getUint16(0x2100 + 12, true), fldAt & 0xffff);
  assert.equal(dv.getUint32(0x2100 + 16, true), ((fldAt >>> 16) << 12) | 0x106);
  assert.equal(dv.getUint16(0x2100 + 20, true), operand & 0xffff);
  assert.equal(dv.getUint32(0x2100 + 24, true), (operand >>> 16) << 12);
});

function file(): X87File {
  return {
    fcw: 0x0a7f, fsw: 0x4d21, ftw: 0b10110010, fop: 0x5ab, fip: 0x000abcdan, fdp: 0x0001234en,
    st: Array.from({ length: 8 }, (_v, k) => Uint8Array.from({ length: 10 }, (_w, j) => (k * 16 + j) | 0x80)),
  };
}

test('every environment layout stores and loads back control, status, tags and pointers', () => {
  const cases: [EnvLayout, string, (f: X87File) => unknown][] = [
    [{ wide: true, real: false }, 'protected 32', (f) => [f.fip, f.fdp, f.fop]],
    [{ wide: false, real: false }, 'protected 16', (f) => [f.fip & 0xffffn, f.fdp & 0xffffn]],
    [{ wide: true, real: true }, 'real 32', (f) => [f.fip, f.fdp, f.fop]],
    [{ wide: false, real: true }, 'real 16', (f) => [f.fip & 0xfffffn, f.fdp & 0xfffffn, f.fop]],
  ];
  for (const [layout, name, pointers] of cases) {
    const a = file();
    const img = storeEnv(a, layout, { fcs: 0x1b, fds: 0x23, csBase: 0, dsBase: 0 });
    assert.equal(img.length, layout.wide ? 28 : 14, name);
    const b = file();
    b.fcw = 0; b.fsw = 0; b.ftw = 0xff; b.fop = 0; b.fip = 0n; b.fdp = 0n;
    const sel = loadEnv(b, img, layout);
    assert.equal(b.fcw, a.fcw, `${name} fcw`);
    assert.equal(b.fsw & ~0x8080, a.fsw & ~0x8080, `${name} fsw`);
    assert.equal(b.ftw, a.ftw, `${name} tags`);
    assert.deepEqual(pointers(b), pointers(a), `${name} pointers`);
    if (!layout.real) assert.deepEqual(sel, { fcs: 0x1b, fds: 0x23 }, `${name} selectors`);
  }
});

test('FLDENV keeps the registers where they physically are when TOP changes', () => {
  const a = file();
  const before = a.st.map((r) => r.slice());
  const img = storeEnv({ ...a, fsw: (a.fsw & ~0x3800) | (2 << 11) }, { wide: true, real: false }, { fcs: 0, fds: 0, csBase: 0, dsBase: 0 });
  // The file had TOP 1 (0x4d21): ST(k) is physical k + 1. With TOP 2, ST(k) is physical k + 2 = old ST(k + 1).
  loadEnv(a, img, { wide: true, real: false });
  for (let k = 0; k < 8; k++) assert.deepEqual(a.st[k], before[(k + 1) & 7]);
});
