import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Hypervisor, listMachines } from '../../src/index.js';
import { processStartTime } from '../../src/frontend/process-liveness.js';
import { runtimeDirPath } from '../../src/frontend/runtime-dir.js';
import { fakeBackend, useTempRundir } from './fake-backend.js';

// Set before the first machine: this process's registry lives here.
const DIR = useTempRundir();

/** A pid that surely belongs to no running process: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

test('the runtime directory: TSVISOR_RUNDIR, XDG_RUNTIME_DIR, /tmp fallback', () => {
  assert.equal(runtimeDirPath({ TSVISOR_RUNDIR: '/x/y' }), '/x/y');
  assert.equal(runtimeDirPath({ XDG_RUNTIME_DIR: '/run/user/7' }), '/run/user/7/tsvisor');
  assert.match(runtimeDirPath({}), /tsvisor-\d+$/);
});

test('entries follow the machine: created, updated on map/createVcpu/unmap, removed on destroy', () => {
  const hv = Hypervisor.fromBackend(fakeBackend());
  const before = Date.now();
  const m = hv.createMachine();
  let [e] = listMachines(DIR).filter((x) => x.id === m.id);
  assert.ok(e, 'the new machine is listed');
  assert.equal(e.pid, process.pid);
  assert.equal(e.backend, 'soft');
  assert.equal(e.vcpus, 0);
  assert.equal(e.ram, 0);
  assert.ok(e.created >= before && e.created <= Date.now());
  m.map(0x100000, m.allocate(0x5000));
  m.createVcpu(0);
  const cpu = m.createVcpu(9);
  [e] = listMachines(DIR).filter((x) => x.id === m.id);
  assert.deepEqual([e!.vcpus, e!.ram], [2, 0x5000]);
  cpu.destroy();
  m.unmap(0x101000, 0x1000);
  [e] = listMachines(DIR).filter((x) => x.id === m.id);
  assert.deepEqual([e!.vcpus, e!.ram], [1, 0x4000]);
  m.destroy();
  assert.equal(listMachines(DIR).filter((x) => x.id === m.id).length, 0);
  assert.ok(!existsSync(join(DIR, `machine-${m.id}.json`)));
  hv.close();
});

test('stale entries (dead owner, or a reused pid) are left out, removed by list, and their ids reused', () => {
  const dead = deadPid();
  writeFileSync(join(DIR, 'machine-0.json'), JSON.stringify({ pid: dead, backend: 'kvm', vcpus: 1, ram: 4096, created: 1 }));
  // our own pid but another start time: the pid was reused, the owner is gone
  const reused = { pid: process.pid, pidStart: 'not-' + String(processStartTime(process.pid)), backend: 'kvm', vcpus: 1, ram: 4096, created: 1 };
  writeFileSync(join(DIR, 'machine-1.json'), JSON.stringify(reused));
  writeFileSync(join(DIR, 'machine-6.json'), 'not json');
  const hv = Hypervisor.fromBackend(fakeBackend());
  const a = hv.createMachine();
  assert.equal(a.id, 2, 'creating reads no entries: the first id without a file');
  assert.deepEqual(listMachines(DIR).map((e) => [e.id, e.pid]), [[2, process.pid]]);
  assert.ok(!existsSync(join(DIR, 'machine-0.json')) && !existsSync(join(DIR, 'machine-1.json')), 'list removed the stale entries');
  assert.ok(existsSync(join(DIR, 'machine-6.json')), 'a file that is not an entry is left alone');
  assert.deepEqual([hv.createMachine().id, hv.createMachine().id, hv.createMachine().id], [0, 1, 3], 'freed ids are reused');
  hv.close();
  assert.deepEqual(listMachines(DIR), []);
  assert.deepEqual(readdirSync(DIR).filter((n) => n.startsWith('.')), [], 'no temp files or locks left behind');
});

test('a crowded directory (>= 128 entries) is swept for stale entries before an id is chosen', () => {
  const dead = deadPid();
  for (let id = 0; id < 130; id++) {
    writeFileSync(join(DIR, `machine-${id}.json`), JSON.stringify({ pid: dead, backend: 'soft', vcpus: 0, ram: 0, created: 1 }));
  }
  const hv = Hypervisor.fromBackend(fakeBackend());
  assert.equal(hv.createMachine().id, 0);
  assert.deepEqual(readdirSync(DIR).filter((n) => n.startsWith('machine-')).sort(), ['machine-0.json'], 'the garbage file 6 was overwritten by a stale entry, then reaped');
  hv.close();
});

test('a process that exits with live machines removes its entries', () => {
  const child = join(fileURLToPath(new URL('.', import.meta.url)), 'registry-child.js');
  const r = spawnSync(process.execPath, [child, '3', 'exit'], { env: { ...process.env, TSVISOR_RUNDIR: DIR }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as number[]).length, 3);
  assert.deepEqual(readdirSync(DIR).filter((n) => n.startsWith('machine-')), []);
});

test('two processes get distinct ids; killing one removes its entries from the list', async () => {
  const child = join(fileURLToPath(new URL('.', import.meta.url)), 'registry-child.js');
  const env = { ...process.env, TSVISOR_RUNDIR: DIR };
  const kids = [0, 1].map(() => spawn(process.execPath, [child, '20'], { env, stdio: ['ignore', 'pipe', 'inherit'] }));
  try {
    const ids = await Promise.all(kids.map(async (k) => {
      const [line] = await once(k.stdout!, 'data') as [Buffer];
      return JSON.parse(line.toString()) as number[];
    }));
    const all = [...ids[0]!, ...ids[1]!];
    assert.equal(new Set(all).size, 40, `ids overlap: ${JSON.stringify(ids)}`);
    const listed = listMachines(DIR);
    for (const [i, k] of kids.entries()) {
      const mine = listed.filter((e) => e.pid === k.pid);
      assert.deepEqual(mine.map((e) => e.id).sort((x, y) => x - y), [...ids[i]!].sort((x, y) => x - y));
      const first = mine.find((e) => e.id === ids[i]![0]);
      assert.deepEqual([first!.vcpus, first!.ram], [2, 0x3000]);
    }
    kids[0]!.kill('SIGKILL');
    await once(kids[0]!, 'exit');
    const after = listMachines(DIR);
    assert.equal(after.filter((e) => e.pid === kids[0]!.pid).length, 0, 'the killed process has no entries');
    assert.equal(after.filter((e) => e.pid === kids[1]!.pid).length, 20);
    for (const id of ids[0]!) assert.ok(!existsSync(join(DIR, `machine-${id}.json`)), `stale entry ${id} removed`);
  } finally {
    for (const k of kids) k.kill('SIGKILL');
  }
});
