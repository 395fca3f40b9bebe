/**
 * Soft CPU: a pending interrupt or an interrupt window waits for IF = 1, and while IF = 0 the
 * guest runs through compiled blocks (run.ts), stopping as soon as an instruction sets IF. A hot
 * loop with interrupts off, then STI: the exit or the delivery must come at exactly the
 * instruction it would one instruction at a time, with the same instructions retired (TSC).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realModeState } from '../../src/x86/boot-state.js';
import { gprs, runLogged, softVm, tsc } from './vm.js';

const LOOPS = 3000;
// cli; mov cx, LOOPS; l: dec cx; jnz l; sti; nop; nop; out 0xf4, al; hlt
const CODE = [0xfa, 0xb9, LOOPS & 0xff, LOOPS >> 8, 0x49, 0x75, 0xfd, 0xfb, 0x90, 0x90, 0xe6, 0xf4, 0xf4];

test('an interrupt window requested while IF = 0 opens after STI and its shadow, past a hot loop', () => {
  const vm = softVm();
  vm.ram.set(CODE, 0x1000);
  vm.cpu.setState({ ...realModeState(0, 0x1000, 0x8000), intr: { intWindowExiting: true } });
  const t0 = tsc(vm);
  const e = vm.cpu.run();
  assert.equal(e.reason, 'int-ready');
  assert.equal(gprs(vm.cpu).rip, 0x1009n, 'STI and the shadowed NOP ran');
  assert.equal(gprs(vm.cpu).rcx & 0xffffn, 0n);
  // cli, mov, LOOPS x (dec, jnz), sti, nop
  assert.equal(tsc(vm) - t0, BigInt(2 + 2 * LOOPS + 2));
});

test('an interrupt injected while IF = 0 is delivered right after STI\'s shadow, past a hot loop', () => {
  const vm = softVm();
  // IVT[0x40] -> 0:0x2000: mov al, 0x40; out 0xe9, al; iret
  vm.ram.set([0x00, 0x20, 0x00, 0x00], 0x40 * 4);
  vm.ram.set([0xb0, 0x40, 0xe6, 0xe9, 0xcf], 0x2000);
  vm.ram.set(CODE, 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  vm.cpu.inject({ type: 'interrupt', vector: 0x40 });
  const t0 = tsc(vm);
  const first = vm.cpu.run();
  assert.equal(first.reason, 'io');
  assert.ok(first.reason === 'io' && first.port === 0xe9, 'the handler ran first');
  // cli, mov, LOOPS x (dec, jnz), sti, nop, then the handler's mov (its OUT exits unretired)
  assert.equal(tsc(vm) - t0, BigInt(2 + 2 * LOOPS + 2 + 1));
  vm.cpu.assistIo(first, () => {});
  const r = runLogged(vm.cpu);
  assert.ok(r.end.reason === 'io' && r.end.port === 0xf4, 'back from the handler to the second NOP, then OUT 0xf4');
  assert.equal(gprs(vm.cpu).rip, 0x100an);
});
