// The frontend's limits on the real backends (the fake-backend tests check the logic; these check
// that each real backend lets the frontend reach them: 128 machines really get created).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, MAX_MACHINES } from '../../src/index.js';
import type { Machine } from '../../src/index.js';
import { useTempRundir, vmmErrorLike } from './fake-backend.js';
import { BACKEND_NAMES, backendSkip } from './real-backends.js';

useTempRundir();

for (const name of BACKEND_NAMES) {
  test(`${name}: 128 live machines, the 129th is ENOBUFS; vCPU ids 0..127, 128 EINVAL, duplicates EEXIST`, { skip: backendSkip(name, 'limit tests') }, () => {
    const hv = Hypervisor.open({ backend: name });
    try {
      const ms: Machine[] = [];
      for (let i = 0; i < MAX_MACHINES; i++) ms.push(hv.createMachine());
      assert.throws(() => hv.createMachine(), vmmErrorLike('ENOBUFS', /128/));
      const m = ms[0]!;
      const c0 = m.createVcpu(0);
      const c127 = m.createVcpu(127);
      assert.equal(c127.id, 127);
      assert.throws(() => m.createVcpu(128), vmmErrorLike('EINVAL', /vCPU id.*128/));
      assert.throws(() => m.createVcpu(0), vmmErrorLike('EEXIST', /vCPU 0 already exists/));
      const ram = m.allocate(0x2000);
      m.map(0x10000, ram);
      assert.throws(() => m.map(0x11000, ram), vmmErrorLike('EEXIST', /overlaps/));
      // the backend really runs after all that: a destroyed machine frees its slot
      c0.destroy();
      ms.pop()!.destroy();
      ms.push(hv.createMachine());
      assert.throws(() => hv.createMachine(), vmmErrorLike('ENOBUFS'));
    } finally {
      hv.close();
    }
  });
}
