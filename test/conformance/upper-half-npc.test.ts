/**
 * Exits at upper-half (kernel) addresses carry an unsigned npc on every backend, and the ways a
 * VMM completes them (assistIo, setState({ rip: npc })) accept it. A kernel mapped at
 * 0xffffffff80000000 is where Linux runs: a signed or rounded npc there broke every completion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, type BackendName } from '../../src/index.js';
import { backendSkip, BACKEND_NAMES } from '../frontend/real-backends.js';
import { RAM_SIZE, setupState } from './harness.js';

const LOAD = 0x10000;
const TABLES = 0x3f0000; // harness.ts puts the identity tables here: PML4, then the PDPT, then PD 0
const KERNEL_BASE = 0xffff_ffff_8000_0000n;
/** out 0x80, al; mov ecx, 0x1234; rdmsr; out 0x81, al; hlt. */
const CODE = [0xe6, 0x80, 0xb9, 0x34, 0x12, 0x00, 0x00, 0x0f, 0x32, 0xe6, 0x81, 0xf4];

for (const backend of BACKEND_NAMES) {
  test(`${backend}: io and rdmsr exits at 0xffffffff8001xxxx have an exact unsigned npc that completes them`, { skip: backendSkip(backend, 'upper-half npc') }, () => {
    const hv = Hypervisor.open({ backend });
    try {
      const m = hv.createMachine();
      const ram = m.allocate(RAM_SIZE);
      m.map(0, ram);
      ram.bytes.set(CODE, LOAD);
      const cpu = m.createVcpu(0);
      setupState(cpu, ram.bytes, { name: 'upper-half', start: 'long-kernel', load: LOAD, compare: [] });
      // PML4[511] -> the PDPT, PDPT[510] -> PD 0: 0xffffffff80000000 + x maps to x.
      const view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset);
      view.setUint32(TABLES + 511 * 8, view.getUint32(TABLES, true), true);
      view.setUint32(TABLES + 0x1000 + 510 * 8, view.getUint32(TABLES + 0x1000, true), true);
      cpu.setState({ gprs: { ...cpu.getState(State.GPRS).gprs!, rip: KERNEL_BASE + BigInt(LOAD) } }, State.GPRS);

      const out = cpu.run();
      assert.equal(out.reason, 'io');
      if (out.reason !== 'io') return;
      assert.equal(out.npc, KERNEL_BASE + BigInt(LOAD + 2));
      cpu.assistIo(out, () => {});

      const rd = cpu.run();
      assert.equal(rd.reason, 'rdmsr');
      if (rd.reason !== 'rdmsr') return;
      assert.equal(rd.npc, KERNEL_BASE + BigInt(LOAD + 9));
      cpu.setState({ gprs: { rax: 0x55n, rdx: 0n, rip: rd.npc } }, State.GPRS);

      const out2 = cpu.run();
      assert.equal(out2.reason, 'io');
      if (out2.reason !== 'io') return;
      assert.deepEqual([out2.port, out2.data[0], out2.npc], [0x81, 0x55, KERNEL_BASE + BigInt(LOAD + 11)]);
      cpu.assistIo(out2, () => {});
      assert.equal(cpu.run().reason, 'halted');
      assert.equal(cpu.getState(State.GPRS).gprs!.rip, KERNEL_BASE + BigInt(LOAD + 12));
    } finally {
      hv.close();
    }
  });
}
