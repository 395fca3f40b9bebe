/**
 * What the soft CPU's block links and jump cache (cpu.ts nextBlock, fetchBlock) may outlive, and
 * what must drop them: they skip the fetch checks (translation, privilege, CS) and the page
 * compare, so they last only while those would give the same block. Runs keep them on a machine
 * whose host announces its writes (an announced write to a code page drops them); setState
 * moving CS drops them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { flat32State } from '../../src/x86/boot-state.js';
import { le32 } from '../support.js';
import { longMode, RAM_SIZE, RUN_WAYS, runLogged, softCpu, softVm, type SoftVm } from './vm.js';

/** A soft VM whose host announces its writes, its CPU running one of RUN_WAYS. */
function announcedVm(hot: number, interpretOnly: boolean, ramSize = RAM_SIZE): SoftVm {
  const vm = softVm(ramSize, { hostWrites: 'announced' });
  const cpu = softCpu(vm);
  cpu.hotBlockRuns = hot;
  cpu.interpretOnly = interpretOnly;
  return vm;
}

/** Runs to the next OUT to port 0xe9 and completes it; returns AL. */
function out(vm: SoftVm): number {
  const exit = vm.cpu.run();
  assert.ok(exit.reason === 'io' && exit.port === 0xe9, `exit ${exit.reason}`);
  vm.cpu.assistIo(exit, () => {});
  return exit.data[0]!;
}

for (const [label, hot, interpretOnly] of RUN_WAYS) {
  test(`announced host writes: decoded code, links and the jump cache outlive runs; a write to a code page drops them (${label})`, () => {
    // A loop of OUTs (one run each) calling page B; each run starts where the last ended.
    const vm = announcedVm(hot, interpretOnly);
    const cpu = softCpu(vm);
    vm.ram.set([0xe8, ...le32(0x11000 - 0x10005), 0xe7, 0xe9, 0xeb, 0xf7], 0x10000); // call B; out 0xe9, eax; jmp
    vm.ram.set([0xb8, ...le32(5), 0xc3], 0x11000); // B: mov eax, 5; ret
    vm.cpu.setState(longMode(vm, 0x10000));
    for (let n = 0; n < 10; n++) assert.equal(out(vm), 5);
    const gen = cpu.codeGen;
    vm.ram[0x20000] = 1;
    vm.m.hostWrote(0x20000, 1); // no code there: nothing to drop
    for (let n = 0; n < 10; n++) assert.equal(out(vm), 5);
    assert.equal(cpu.codeGen, gen, 'runs that wrote no code kept the links and jump cache');
    vm.ram[0x11001] = 9;
    vm.m.hostWrote(0x11001, 1);
    assert.equal(out(vm), 9);
    assert.ok(cpu.codeGen > gen, 'the announced write to page B dropped what linked into it');
    vm.hv.close();
  });

  test(`setState moving CS drops the links that skip fetch checks (${label})`, () => {
    // 32-bit: A at linear 0x1000 jumps to EIP 0x1010 through ECX. With CS.base 0 that is B (OUT 1);
    // then CS.base 0x1000 and EIP 0 reach the same A, whose jump now lands at linear 0x2010 (OUT 2).
    const vm = announcedVm(hot, interpretOnly);
    vm.ram.set([0xb9, ...le32(0x1010), 0xff, 0xe1], 0x1000); // mov ecx, 0x1010; jmp ecx
    vm.ram.set([0xb0, 0x01, 0xe6, 0xe9, 0xf4], 0x1010); // mov al, 1; out 0xe9, al; hlt
    vm.ram.set([0xb0, 0x02, 0xe6, 0xe9, 0xf4], 0x2010); // mov al, 2; out 0xe9, al; hlt
    for (let n = 0; n < 6; n++) {
      vm.cpu.setState(flat32State(0x1000, 0x8000));
      assert.deepEqual(runLogged(vm.cpu).log, [1]);
    }
    const cs = vm.cpu.getState(State.SEGS).segs!.cs;
    vm.cpu.setState({ segs: { cs: { ...cs, base: 0x1000n, limit: 0xffff } }, gprs: { rip: 0n } }, State.SEGS | State.GPRS);
    assert.deepEqual(runLogged(vm.cpu).log, [2]);
    vm.hv.close();
  });
}
