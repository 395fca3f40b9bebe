/**
 * Exit completion details of the soft backend (src/backends/soft/exit-completion.ts) that the
 * cross-backend tests (test/assist/exit-completion.test.ts) cannot pin down on KVM: a run() with
 * an IN's data never filled (KVM's buffer then holds stale bytes), the single-step trap after a
 * completed IN, the IN retiring (the TSC counts it), and INS/OUTS, which soft completes inside
 * assistIo (no backendCompletes) while KVM completes them at the next run().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State, type IoExit, type VmExit } from '../../src/index.js';
import { realModeState } from '../../src/x86/boot-state.js';
import { gprs, softVm, type SoftVm } from './vm.js';

const CODE = 0x1000;

function realVm(code: number[], at = CODE): SoftVm {
  const vm = softVm();
  vm.ram.set(code, at);
  vm.cpu.setState(realModeState(0, CODE, 0x8000));
  return vm;
}

function io(e: VmExit): IoExit {
  assert.equal(e.reason, 'io', `expected an io exit, got ${e.reason}`);
  return e as IoExit;
}

test('soft: IN/OUT exits carry backendCompletes; getState before the next run() shows RIP still on the OUT', () => {
  const vm = realVm([0xb0, 0x33, 0xe6, 0x41, 0xe4, 0x40, 0xf4]);   // mov al, 0x33; out 0x41, al; in al, 0x40; hlt
  const out = io(vm.cpu.run());
  assert.deepEqual([out.in, out.str, out.backendCompletes, out.npc], [false, false, true, BigInt(CODE + 4)]);
  vm.cpu.assistIo(out, () => {});
  assert.equal(gprs(vm.cpu).rip, BigInt(CODE + 2));
  const inp = io(vm.cpu.run());
  assert.deepEqual([inp.in, inp.backendCompletes], [true, true]);
  vm.hv.close();
});

test('soft: a run() after an IN exit with its data never filled completes it with zeros (no re-execution)', () => {
  const vm = realVm([0xb0, 0xff, 0xe4, 0x40, 0xf4]);   // mov al, 0xff; in al, 0x40; hlt
  io(vm.cpu.run());
  assert.equal(vm.cpu.run().reason, 'halted');
  assert.deepEqual([gprs(vm.cpu).rax, gprs(vm.cpu).rip], [0n, BigInt(CODE + 5)]);
  vm.hv.close();
});

test('soft: TF set on an IN: the single-step #DB comes after the IN completes (return IP = npc, DR6.BS)', () => {
  const HANDLER = 0x1300;
  const vm = realVm([0xe4, 0x40, 0x90, 0xf4]);   // in al, 0x40; nop; hlt
  vm.ram[HANDLER] = 0xf4;                         // #DB handler: hlt
  new DataView(vm.ram.buffer).setUint32(1 * 4, HANDLER, true);
  vm.cpu.setState({ gprs: { rflags: 0x102n } }, State.GPRS);   // TF
  vm.cpu.assistIo(io(vm.cpu.run()), (r) => { r.data[0] = 0x61; });
  assert.equal(vm.cpu.run().reason, 'halted');
  const g = gprs(vm.cpu);
  assert.equal(g.rip, BigInt(HANDLER + 1), 'in the #DB handler');
  assert.equal(g.rax & 0xffn, 0x61n);
  const frame = new DataView(vm.ram.buffer, Number(g.rsp));
  assert.equal(frame.getUint16(0, true), CODE + 2, 'trap frame: the instruction after the IN');
  assert.equal(frame.getUint16(4, true) & 0x100, 0x100, 'TF in the saved FLAGS');
  assert.equal(vm.cpu.getState(State.DRS).drs!.dr6 & 0x4000n, 0x4000n, 'DR6.BS');
  vm.hv.close();
});

test('soft: a completed IN retires (the TSC, instructions retired, counts it as it counts a NOP)', () => {
  // rdtsc; mov ebx, eax; <in al, 0x40 | nop nop>; rdtsc; sub eax, ebx; hlt
  const delta = (middle: number[]): bigint => {
    const vm = realVm([0x0f, 0x31, 0x66, 0x89, 0xc3, ...middle, 0x0f, 0x31, 0x66, 0x29, 0xd8, 0xf4]);
    for (;;) {
      const e = vm.cpu.run();
      if (e.reason === 'halted') break;
      vm.cpu.assistIo(io(e), () => {});
    }
    const d = gprs(vm.cpu).rax;
    vm.hv.close();
    return d;
  };
  assert.equal(delta([0xe4, 0x40]), delta([0x90]));
});

test('soft: REP INSB / REP OUTSW complete inside assistIo (no backendCompletes): registers final at once', () => {
  // cld; mov cx, 3; mov di, 0x2000; rep insb (port dx = 0x60); mov cx, 2; mov si, 0x2000; rep outsw; hlt
  const code = [0xfc, 0xb9, 0x03, 0x00, 0xbf, 0x00, 0x20, 0xba, 0x60, 0x00, 0xf3, 0x6c,
    0xb9, 0x02, 0x00, 0xbe, 0x00, 0x20, 0xf3, 0x6f, 0xf4];
  const vm = realVm(code);
  const ins = io(vm.cpu.run());
  assert.deepEqual([ins.str, ins.rep, ins.in, ins.backendCompletes], [true, true, true, undefined]);
  let next = 0xa0;
  vm.cpu.assistIo(ins, (r) => { r.data[0] = next++; });
  const after = gprs(vm.cpu);
  assert.deepEqual([after.rcx & 0xffffn, after.rdi & 0xffffn, after.rip], [0n, 0x2003n, BigInt(CODE + 12)]);
  assert.deepEqual(Array.from(vm.ram.subarray(0x2000, 0x2003)), [0xa0, 0xa1, 0xa2]);
  const outs = io(vm.cpu.run());
  assert.deepEqual([outs.str, outs.rep, outs.in, outs.size], [true, true, false, 2]);
  const words: number[] = [];
  vm.cpu.assistIo(outs, (r) => { words.push(r.data[0]! | (r.data[1]! << 8)); });
  assert.deepEqual(words, [0xa1a0, 0x00a2]);
  assert.equal(vm.cpu.run().reason, 'halted');
  assert.deepEqual([gprs(vm.cpu).rsi & 0xffffn, gprs(vm.cpu).rip], [0x2004n, BigInt(CODE + code.length)]);
  vm.hv.close();
});
