/**
 * What the soft CPU's block links and jump cache (cpu.ts nextBlock, fetchBlock) may outlive, and
 * what must drop them: they skip the fetch checks (translation, privilege, CS) and the page
 * compare, so they last only while those would give the same block. Runs keep them on a machine
 * whose host announces its writes (an announced write to a code page drops them); a MOV to CR3
 * keeps them while only global translations fetched code; setState moving CS drops them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { flat32State } from '../../src/x86/boot-state.js';
import { le32 } from '../support.js';
import { longMode, RAM_SIZE, RUN_WAYS, runLogged, runToOutE9, softCpu, softVm, useWay, type RunWay, type SoftVm } from './vm.js';

/** A soft VM whose host announces its writes, its CPU running one of RUN_WAYS. */
function announcedVm(way: RunWay, ramSize = RAM_SIZE): SoftVm {
  const vm = softVm(ramSize, { hostWrites: 'announced' });
  useWay(vm, way);
  return vm;
}

const PS = 0x80, G = 0x100, CR4_PGE = 0x80n;

/**
 * 8 MiB, two address spaces: the identity map, and a copy whose 2 MiB page at 0x200000 is
 * guest-physical 0x400000 (remap) or 0x200000 again. Page B (0x200000: mov eax, 1; ret; at
 * 0x400000: mov eax, 2) is called from a loop at 0x10000 that OUTs EAX, then switches CR3
 * between the two (MOV from CR3, XOR RDX, MOV to CR3). global: every page global, CR4.PGE set.
 */
function twoAddressSpaces(vm: SoftVm, remap: boolean, global: boolean): void {
  const st = longMode(vm, 0x10000);
  const pt1 = Number(st.crs!.cr3), pt2 = 0x600000;
  const view = new DataView(vm.ram.buffer);
  vm.ram.copyWithin(pt2, pt1, pt1 + 0x3000);
  const point = (at: number, to: number, mask: number): void => view.setUint32(at, (view.getUint32(at, true) & mask) | to, true);
  point(pt2, pt2 + 0x1000, 0xfff); // PML4[0] -> its own PDPT
  point(pt2 + 0x1000, pt2 + 0x2000, 0xfff); // PDPT[0] -> its own PD
  if (remap) point(pt2 + 0x2000 + 8, 0x400000, 0x1fffff); // PD[1]: 0x200000 -> 0x400000
  for (const pd of [pt1 + 0x2000, pt2 + 0x2000]) {
    for (let i = 0; i < 4; i++) {
      assert.ok(view.getUint32(pd + i * 8, true) & PS);
      if (global) point(pd + i * 8, G, ~0);
    }
  }
  vm.ram.set([0xb8, ...le32(1), 0xc3], 0x200000);
  vm.ram.set([0xb8, ...le32(2), 0xc3], 0x400000);
  vm.ram.set([
    0xe8, ...le32(0x200000 - 0x10005), // call B
    0xe7, 0xe9, // out 0xe9, eax
    0x0f, 0x20, 0xd8, // mov rax, cr3
    0x48, 0x31, 0xd0, // xor rax, rdx
    0x0f, 0x22, 0xd8, // mov cr3, rax
    0xeb, 0xee, // jmp 0x10000
  ], 0x10000);
  vm.cpu.setState({
    ...st, gprs: { ...st.gprs!, rdx: BigInt(pt1 ^ pt2) }, crs: { ...st.crs!, cr4: st.crs!.cr4! | (global ? CR4_PGE : 0n) },
  });
}

for (const way of RUN_WAYS) {
  const label = way[0];
  test(`a MOV to CR3 that maps a non-global code page elsewhere: the block there runs, not the one linked before (${label})`, () => {
    const vm = announcedVm(way, 8 * 2 ** 20);
    twoAddressSpaces(vm, true, false);
    const seen = Array.from({ length: 12 }, () => runToOutE9(vm.cpu));
    assert.deepEqual(seen, Array.from({ length: 12 }, (_, n) => 1 + (n % 2)));
    vm.hv.close();
  });

  test(`a MOV to CR3 while only global pages held code keeps the links and the jump cache (${label})`, () => {
    const vm = announcedVm(way, 8 * 2 ** 20);
    twoAddressSpaces(vm, false, true);
    for (let n = 0; n < 6; n++) assert.equal(runToOutE9(vm.cpu), 1);
    const gen = softCpu(vm).codeGen;
    for (let n = 0; n < 6; n++) assert.equal(runToOutE9(vm.cpu), 1);
    assert.equal(softCpu(vm).codeGen, gen, 'six address-space switches dropped no link');
    vm.hv.close();
  });

  test(`announced host writes: decoded code, links and the jump cache outlive runs; a write to a code page drops them (${label})`, () => {
    // A loop of OUTs (one run each) calling page B; each run starts where the last ended.
    const vm = announcedVm(way);
    const cpu = softCpu(vm);
    vm.ram.set([0xe8, ...le32(0x11000 - 0x10005), 0xe7, 0xe9, 0xeb, 0xf7], 0x10000); // call B; out 0xe9, eax; jmp
    vm.ram.set([0xb8, ...le32(5), 0xc3], 0x11000); // B: mov eax, 5; ret
    vm.cpu.setState(longMode(vm, 0x10000));
    for (let n = 0; n < 10; n++) assert.equal(runToOutE9(vm.cpu), 5);
    const gen = cpu.codeGen;
    vm.ram[0x20000] = 1;
    vm.m.hostWrote(0x20000, 1); // no code there: nothing to drop
    for (let n = 0; n < 10; n++) assert.equal(runToOutE9(vm.cpu), 5);
    assert.equal(cpu.codeGen, gen, 'runs that wrote no code kept the links and jump cache');
    vm.ram[0x11001] = 9;
    vm.m.hostWrote(0x11001, 1);
    assert.equal(runToOutE9(vm.cpu), 9);
    assert.ok(cpu.codeGen > gen, 'the announced write to page B dropped what linked into it');
    vm.hv.close();
  });

  test(`setState moving CS drops the links that skip fetch checks (${label})`, () => {
    // 32-bit: A at linear 0x1000 jumps to EIP 0x1010 through ECX. With CS.base 0 that is B (OUT 1);
    // then CS.base 0x1000 and EIP 0 reach the same A, whose jump now lands at linear 0x2010 (OUT 2).
    const vm = announcedVm(way);
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
