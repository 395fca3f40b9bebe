/**
 * An exit's data aliases kvm_run. Reading it after the vCPU or the hypervisor is gone must not
 * crash the process (it reads zeros). Run in a child process, so a crash is a failed assertion
 * here rather than the end of the test file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, skipUnlessKvm } from '../support.js';

const skip = skipUnlessKvm();
const index = pathToFileURL(join(REPO, 'dist', 'src', 'index.js')).href;

const CHILD = `
const { Hypervisor, realModeState } = await import(${JSON.stringify(index)});
const hv = Hypervisor.open({ backend: 'kvm' });
const m = hv.createMachine();
const ram = m.allocate(0x10000);
m.map(0, ram);
ram.bytes.set([0xb0, 0x5a, 0xe6, 0xf4, 0xf4], 0x1000); // mov al, 0x5a; out 0xf4, al
const cpu = m.createVcpu(0);
cpu.setState(realModeState(0, 0x1000, 0x8000));
const io = cpu.run();
const first = Array.from(io.data);
cpu.destroy();
const afterDestroy = Array.from(io.data);
hv.close();
process.stdout.write(JSON.stringify({ reason: io.reason, first, afterDestroy, afterClose: Array.from(io.data) }));
`;

test("kvm: reading an io exit's data after cpu.destroy() and hv.close() does not crash the process", { skip }, () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, `child died of ${r.signal}`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { reason: 'io', first: [0x5a], afterDestroy: [0], afterClose: [0] });
});
