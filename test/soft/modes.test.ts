/**
 * Soft CPU: mode switches and protected-mode system behaviour (guests/conf-modes.S,
 * guests/soft-pm32.S): real -> protected -> long mode, 32-bit IDT delivery with a privilege
 * change through the TSS, 32-bit paging with a PSE page, #PF error code and CR2, #GP from CPL3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { flat32State, realModeState } from '../../src/x86/boot-state.js';
import { gprs, load, runLogged, softVm } from './vm.js';

test('real mode -> protected mode -> long mode -> compatibility mode and back', () => {
  const vm = softVm();
  load(vm, 'conf-modes', 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  const { log, end } = runLogged(vm.cpu);
  assert.deepEqual(log, [1, 2, 3, 4, 5]);
  assert.equal(end.reason, 'io');
  const st = vm.cpu.getState(State.ALL);
  assert.equal(st.msrs!.efer & 0x500n, 0x500n, 'EFER.LME and LMA');
  assert.equal(st.crs!.cr0 & 0x80000001n, 0x80000001n, 'CR0.PG and PE');
  assert.equal(st.segs!.cs.selector, 0x18);
  assert.equal(st.segs!.cs.l, 1);
  const dv = new DataView(vm.ram.buffer);
  assert.equal(dv.getUint16(0x30020, true), 0x1111, 'real-mode store through ES');
  assert.equal(dv.getUint32(0x30004, true), 0x22222222, '32-bit store');
  assert.equal(dv.getBigUint64(0x30008, true), 0x3333333344444444n, '64-bit store');
  assert.equal(dv.getUint32(0x30010, true) & 0x500, 0x500, 'RDMSR EFER in long mode');
  assert.equal(dv.getUint32(0x30018, true), 0x55555555, 'compatibility-mode store');
});

test('32-bit protected mode: RETF/IRET to CPL3, IDT gates via the TSS, PSE paging #PF, SYSENTER/SYSEXIT, #GP', () => {
  const vm = softVm();
  load(vm, 'soft-pm32', 0x10000);
  vm.cpu.setState(flat32State(0x10000, 0x9000));
  const { log, end } = runLogged(vm.cpu);
  // INT 0x80: caller CS 0x1b, handler on ESP0 (0x9800) minus the 5-dword frame, EBX seen.
  assert.deepEqual(log.slice(0, 3), [0x1b, 0x9800 - 20, 0x1234]);
  // #PF: user read of the supervisor 4 MiB page: error code U|P = 5, CR2 = 0x400000.
  assert.deepEqual(log.slice(3, 5), [5, 0x400000]);
  // SYSENTER: CS 0x08, ESP from SYSENTER_ESP; SYSEXIT back to CPL3.
  assert.deepEqual(log.slice(5, 7), [0x08, 0x9400]);
  // #GP(0) from CLI at CPL3 (so SYSEXIT did return to CPL3).
  assert.equal(log[7], 0);
  assert.equal(end.reason, 'io');
  const st = vm.cpu.getState(State.SEGS);
  assert.equal(st.segs!.cs.selector, 0x08);
  assert.equal(st.segs!.tr.selector, 0x28);
  assert.equal(st.segs!.tr.type, 0xb, 'LTR marked the TSS busy');
  assert.equal(gprs(vm.cpu).rsp, BigInt(0x9800 - 24), 'frame with error code on the TSS stack');
});

test('PAE paging: 2 MiB and 4 KiB pages, a not-present page faults with CR2', () => {
  const vm = softVm();
  const dv = new DataView(vm.ram.buffer);
  // PDPT 0x20000 -> PD 0x21000: PD[0] = 2 MiB identity page, PD[1] -> PT 0x22000 with PT[0] = 0x300000.
  dv.setUint32(0x20000, 0x21000 | 1, true);
  dv.setUint32(0x21000, 0x83, true);
  dv.setUint32(0x21008, 0x22000 | 3, true);
  dv.setUint32(0x22000, 0x300000 | 3, true);
  dv.setUint32(0x300000, 0xfeedf00d, true);
  // mov eax,[0x200000]; mov ebx,[0x201000] (not present: #PF with no IDT -> shutdown)
  vm.ram.set([0xa1, 0x00, 0x00, 0x20, 0x00, 0x8b, 0x1d, 0x00, 0x10, 0x20, 0x00, 0xf4], 0x1000);
  const st = flat32State(0x1000, 0x8000);
  vm.cpu.setState({ ...st, crs: { ...st.crs, cr0: 0x80000011n, cr3: 0x20000n, cr4: 0x20n } });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'shutdown');
  const all = vm.cpu.getState(State.GPRS | State.CRS);
  assert.equal(all.gprs!.rax, 0xfeedf00dn, 'through the 4 KiB page');
  assert.equal(all.gprs!.rip, 0x1005n, 'stopped at the faulting load');
  assert.equal(all.crs!.cr2, 0x201000n);
  assert.equal(dv.getUint32(0x22000, true) & 0x20, 0x20, 'accessed bit set in the PTE');
});
