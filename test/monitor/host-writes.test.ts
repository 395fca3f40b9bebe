/**
 * The monitor's announcements of its writes to guest RAM (core/host-writes.ts): every view a
 * device is handed is noted by its pages and announced at the next flush; on a soft machine
 * created with hostWrites 'announced', code a device writes through such a view runs at the next
 * run, block links and all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, VmmError } from '../../src/index.js';
import { RegionGuestMemory } from '../../src/vmm/bus/guest-memory.js';
import { HostWriteLog } from '../../src/vmm/core/host-writes.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { le32 } from '../support.js';
import { runToOutE9 } from '../soft/vm.js';

test('HostWriteLog: the pages of what was noted, each announced once at the next flush', () => {
  const announced: [number, number][] = [];
  const log = new HostWriteLog((gpa, size) => announced.push([gpa, size]));
  log.note(0x1ffe, 4); // two pages
  log.note(0x2000, 16); // one already noted
  log.note(0x9000, 0); // nothing
  log.note(0x5000, 0x2000);
  log.flush();
  assert.deepEqual(announced.sort((a, b) => a[0] - b[0]), [[0x1000, 0x1000], [0x2000, 0x1000], [0x5000, 0x1000], [0x6000, 0x1000]]);
  log.flush();
  assert.equal(announced.length, 4, 'a flush announces only what was noted since the last');
});

test('RegionGuestMemory tells handedOut of each view it returns, not of a range it refuses', () => {
  const seen: [number, number][] = [];
  const mem = new RegionGuestMemory([{ gpa: 0x10000, bytes: new Uint8Array(0x2000) }], (gpa, length) => seen.push([gpa, length]));
  mem.view(0x10010, 8)[0] = 1;
  mem.view(0x11fff, 1);
  assert.throws(() => mem.view(0x11fff, 2), (e: VmmError) => e.code === 'EFAULT');
  assert.deepEqual(seen, [[0x10010, 8], [0x11fff, 1]]);
});

test('code a device writes through a view runs at the next run of an announced soft machine', () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const m = hv.createMachine({ hostWrites: 'announced' });
    const ram = m.allocate(2 * 2 ** 20);
    m.map(0, ram);
    const bytes = ram.bytes;
    const writes = new HostWriteLog((gpa, size) => m.hostWrote(gpa, size));
    const mem = new RegionGuestMemory([{ gpa: 0, bytes }], (gpa, length) => writes.note(gpa, length));
    bytes.set([0xe8, ...le32(0x11000 - 0x10005), 0xe7, 0xe9, 0xeb, 0xf7], 0x10000); // call B; out 0xe9, eax; jmp
    bytes.set([0xb8, ...le32(0), 0xc3], 0x11000); // B: mov eax, imm32; ret
    const cpu = m.createVcpu(0);
    cpu.setState(longModeState({ ram: bytes, ramGpa: 0, tablesGpa: 0x100000, mapBytes: 2 * 2 ** 20 }, { entry: 0x10000, stack: 0x80000 }));
    const seen: number[] = [];
    for (let n = 0; n < 20; n++) {
      writes.flush(); // as the vCPU loop does right before each run
      seen.push(runToOutE9(cpu));
      mem.view(0x11001, 1)[0] = n + 1; // the "device" rewrites B's immediate
    }
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, n) => n));
  } finally {
    hv.close();
  }
});
