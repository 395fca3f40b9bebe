/**
 * Soft CPU: interrupts and events. IVT delivery in real mode (INT n, #DE), HLT woken by an
 * injected interrupt, the interrupt window after STI, NMI delivery, triple fault -> shutdown,
 * stop() before a run and from another thread while the guest loops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { State, stopVcpu } from '../../src/index.js';
import { realModeState } from '../../src/x86/boot-state.js';
import { gprs, load, longMode, runLogged, setGate64, softVm } from './vm.js';

test('real mode: INT n and #DE through the IVT, HLT woken by an injected interrupt', () => {
  const vm = softVm();
  load(vm, 'soft-realint', 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  let r = runLogged(vm.cpu);
  assert.deepEqual(r.log, [0x11]);
  assert.equal(r.end.reason, 'halted');
  assert.equal(gprs(vm.cpu).rbx, 1n, 'INT 0x21 handler ran once');
  vm.cpu.inject({ type: 'interrupt', vector: 0x30 });
  r = runLogged(vm.cpu);
  assert.deepEqual(r.log, [0x30, 0x22], 'the injected interrupt, then the code after HLT');
  assert.equal(r.end.reason, 'io');
});

test('interrupt window: int-ready exit once STI and its shadow have passed', () => {
  const vm = softVm();
  // cli; nop; sti; nop; nop; hlt
  vm.ram.set([0xfa, 0x90, 0xfb, 0x90, 0x90, 0xf4], 0x1000);
  vm.cpu.setState({ ...realModeState(0, 0x1000, 0x8000), intr: { intWindowExiting: true } });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'int-ready');
  // STI at 0x1002 and the shadowed NOP at 0x1003 ran: RIP is at the second NOP.
  assert.equal(gprs(vm.cpu).rip, 0x1004n);
  assert.equal(e.exitState.intWindowExiting, false, 'one-shot: cleared when reported');
});

test('an injected interrupt waits while IF=0 and is delivered once the guest enables interrupts', () => {
  const vm = softVm();
  // IVT[0x40] -> 0:0x2000 (mov al,0x40; out 0xe9,al; iret); main: cli; nop; sti; nop; out 0xf4; hlt
  vm.ram.set([0x00, 0x20, 0x00, 0x00], 0x40 * 4);
  vm.ram.set([0xb0, 0x40, 0xe6, 0xe9, 0xcf], 0x2000);
  vm.ram.set([0xfa, 0x90, 0xfb, 0x90, 0xe6, 0xf4, 0xf4], 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  vm.cpu.inject({ type: 'interrupt', vector: 0x40 });
  assert.equal(vm.cpu.getState(State.INTR).intr!.evtPending, true);
  const r = runLogged(vm.cpu);
  assert.deepEqual(r.log, [0x40]);
  assert.equal(r.end.reason, 'io');
  assert.equal(vm.cpu.getState(State.INTR).intr!.evtPending, false);
});

test('NMI: delivered through vector 2 even with IF=0', () => {
  const vm = softVm();
  vm.ram.set([0x00, 0x20, 0x00, 0x00], 2 * 4);
  vm.ram.set([0xb0, 0x02, 0xe6, 0xe9, 0xcf], 0x2000);
  vm.ram.set([0xfa, 0x90, 0xe6, 0xf4], 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  vm.cpu.inject({ type: 'nmi' });
  const r = runLogged(vm.cpu);
  assert.deepEqual(r.log, [2]);
});

test('TF single-step: a #DB trap after every instruction that starts with TF set', () => {
  const vm = softVm();
  // IVT[1] -> 0:0x2000: inc si; iret
  vm.ram.set([0x00, 0x20, 0x00, 0x00], 1 * 4);
  vm.ram.set([0x46, 0xcf], 0x2000);
  // pushf; pop ax; or ax,0x100; push ax; popf; nop; nop; nop; pushf; pop ax; and ax,0xfeff; push ax; popf; out 0xf4,al
  vm.ram.set([0x9c, 0x58, 0x0d, 0x00, 0x01, 0x50, 0x9d, 0x90, 0x90, 0x90,
    0x9c, 0x58, 0x25, 0xff, 0xfe, 0x50, 0x9d, 0xe6, 0xf4], 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  const e = vm.cpu.run();
  assert.equal(e.reason, 'io');
  // Traps after: nop nop nop pushf pop and push popf (the POPF that clears TF still traps).
  assert.equal(gprs(vm.cpu).rsi, 8n);
  assert.equal(vm.cpu.getState(State.DRS).drs!.dr6 & 0x4000n, 0x4000n, 'DR6.BS');
});

test('triple fault: #UD with an empty IDT escalates to a shutdown exit', () => {
  const vm = softVm();
  vm.ram.set([0x90, 0x0f, 0x0b], 0x10000); // nop; ud2
  vm.cpu.setState(longMode(vm, 0x10000));  // IDT limit 0
  const e = vm.cpu.run();
  assert.equal(e.reason, 'shutdown');
  assert.equal(gprs(vm.cpu).rip, 0x10001n, 'state left at the faulting instruction');
});

test('double fault: a #GP while delivering #NP goes to the #DF handler', () => {
  const vm = softVm();
  const st = longMode(vm, 0x10000);
  // IDT at 0x40000: vector 8 -> handler 0x11000 (out 0xf4); vector 6's gate not present; vector 11's empty.
  setGate64(vm, 0x40000, 8, 0x11000);
  setGate64(vm, 0x40000, 6, 0x11000, false);
  vm.ram.set([0xe6, 0xf4, 0xf4], 0x11000);
  // ud2 -> #UD -> its gate is not present: #NP -> gate 11 is empty: #GP; #NP then #GP -> #DF.
  vm.ram.set([0x0f, 0x0b], 0x10000);
  vm.cpu.setState({ ...st, segs: { ...st.segs!, idt: { ...st.segs!.idt!, base: 0x40000n, limit: 16 * 12 - 1 } } });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'io');
  const g = gprs(vm.cpu);
  assert.equal(g.rip, 0x11000n);
  const frame = new DataView(vm.ram.buffer);
  assert.equal(frame.getBigUint64(Number(g.rsp), true), 0n, '#DF error code 0');
  assert.equal(frame.getBigUint64(Number(g.rsp) + 8, true), 0x10000n, 'saved RIP: the UD2');
});

test('stop() before run() returns a stopped exit without running the guest', () => {
  const vm = softVm();
  vm.ram.set([0xeb, 0xfe], 0x1000); // jmp $
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  vm.cpu.stop();
  assert.equal(vm.cpu.run().reason, 'stopped');
  assert.equal(gprs(vm.cpu).rip, 0x1000n);
});

test('stop from another thread ends a guest spinning forever', async () => {
  const vm = softVm();
  vm.ram.set([0xeb, 0xfe], 0x1000); // jmp $
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  const handle = vm.cpu.stopHandle();
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     setTimeout(() => Atomics.store(new Int32Array(workerData.data.stop), 0, 1), 50);`,
    { eval: true, workerData: handle },
  );
  const e = vm.cpu.run();
  assert.equal(e.reason, 'stopped');
  await worker.terminate();
  // The frontend's stopVcpu dispatches to softStopFromHandle.
  stopVcpu(handle);
  assert.equal(vm.cpu.run().reason, 'stopped');
});

test('an injected #GP is delivered with its error code through the 64-bit IDT', () => {
  const vm = softVm();
  const st = longMode(vm, 0x10000);
  setGate64(vm, 0x40000, 13, 0x11000);
  vm.ram.set([0xe6, 0xf4, 0xf4], 0x11000); // handler: out 0xf4; hlt
  vm.ram.set([0x90, 0xf4], 0x10000);
  vm.cpu.setState({ ...st, segs: { ...st.segs!, idt: { ...st.segs!.idt!, base: 0x40000n, limit: 0xfff } } });
  vm.cpu.inject({ type: 'exception', vector: 13, errorCode: 0x18 });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'io');
  const g = gprs(vm.cpu);
  const dv = new DataView(vm.ram.buffer);
  assert.equal(dv.getBigUint64(Number(g.rsp), true), 0x18n, 'error code');
  assert.equal(dv.getBigUint64(Number(g.rsp) + 8, true), 0x10000n, 'saved RIP: where the guest was');
});
