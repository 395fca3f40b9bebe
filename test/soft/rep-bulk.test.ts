/**
 * REP MOVS/STOS copy and fill whole page runs at once where the soft CPU's TLB already maps
 * plain RAM for the access (ops-string bulkIterations, SoftCpu.bulkView). guests/soft-rep-bulk.S
 * runs its fills and copies (unaligned, across pages, overlapping both ways, backward, 32-bit
 * addresses, into MMIO) both that way and one element at a time: every exit, register, the
 * TSC (instructions retired) and all of RAM must match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { State, type VmExit } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { setBulkStrings } from '../../src/x86/exec/ops-string.js';
import { load, softVm } from './vm.js';

const RAM = 0x80000;

function run(bulk: boolean): { exits: string[]; gprs: string; tsc: bigint; ram: string } {
  setBulkStrings(bulk);
  const vm = softVm(RAM);
  try {
    load(vm, 'soft-rep-bulk', 0x10000);
    // Page tables map 2 MiB: GPA 0x80000 and up is not RAM, so accesses there exit.
    vm.cpu.setState(longModeState({ ram: vm.ram, ramGpa: 0, tablesGpa: 0x70000, mapBytes: 0x200000 }, { entry: 0x10000, stack: 0x6f000 }));
    const exits: string[] = [];
    for (let n = 0; n < 200; n++) {
      const e: VmExit = vm.cpu.run();
      if (e.reason === 'memory') {
        exits.push(`memory ${e.gpa.toString(16)} ${e.write} ${e.size}`);
        // The assist runs the rest of a REP string instruction's device accesses in this exit.
        vm.cpu.assistMem(e, (req) => exits.push(`  ${req.gpa.toString(16)} ${req.size} ${Array.from(req.data).join(' ')}`));
        continue;
      }
      exits.push(e.reason === 'io' ? `io ${e.port.toString(16)} ${Array.from(e.data).join(' ')}` : e.reason);
      break;
    }
    const g = vm.cpu.getState(State.GPRS).gprs!;
    return {
      exits, gprs: JSON.stringify(g, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)),
      tsc: vm.cpu.getState(State.MSRS).msrs!.tsc!, ram: createHash('sha256').update(vm.ram).digest('hex'),
    };
  } finally {
    setBulkStrings(true);
    vm.hv.close();
  }
}

test('REP MOVS/STOS in page runs match one element at a time', () => {
  const bulk = run(true), single = run(false);
  assert.deepEqual(bulk, single);
  // The last 8 bytes of the MOVSB (0x24010.., which the MOVSL 4 bytes down left holding the
  // pattern of 0x24014..) and one STOSW word (AX = 0xbc66) reach MMIO; then OUT 0xf4.
  const pattern = (at: number): number => ((at - 0x20000) * 7) & 0xff;
  assert.deepEqual(bulk.exits, [
    'memory 80000 true 1', ...Array.from({ length: 8 }, (_, i) => `  ${(0x80000 + i).toString(16)} 1 ${pattern(0x24014 + i)}`),
    'memory 80000 true 2', '  80000 2 102 188', 'io f4 68',
  ]);
});
