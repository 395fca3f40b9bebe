import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor } from '../../src/index.js';
import type { Machine } from '../../src/index.js';
import { fakeBackend, useTempRundir, vmmErrorLike } from './fake-backend.js';
import type { FakeBackend } from './fake-backend.js';

useTempRundir();

function setup(): { fb: FakeBackend; hv: Hypervisor; m: Machine } {
  const fb = fakeBackend();
  const hv = Hypervisor.fromBackend(fb);
  return { fb, hv, m: hv.createMachine() };
}

test('allocate: positive page multiples within maxRam', () => {
  const { fb, hv, m } = setup();
  for (const bad of [0, 100, 4095, -4096, 4096.5, NaN, '4096', 8192n]) {
    assert.throws(() => m.allocate(bad as number), vmmErrorLike('EINVAL', /allocate size/));
  }
  assert.throws(() => m.allocate(128 * 1024 * 1024), vmmErrorLike('EINVAL', /allocate size/));
  const a = m.allocate(48 * 1024 * 1024);
  assert.equal(a.size, 48 * 1024 * 1024);
  assert.throws(() => m.allocate(32 * 1024 * 1024), vmmErrorLike('ENOMEM', /maxRam/));
  m.free(a);
  assert.equal(m.allocate(32 * 1024 * 1024).size, 32 * 1024 * 1024);
  assert.equal(fb.named('allocate').length, 2);
  hv.close();
});

test('map: alignment, size, bounds, prot, ownership', () => {
  const { fb, hv, m } = setup();
  const ram = m.allocate(0x4000);
  const cases: [number, object, RegExp][] = [
    [0x123, {}, /map gpa.*0x123/],
    [-4096, {}, /map gpa/],
    [2 ** 52, {}, /map gpa/],
    [0, { offset: 0x800 }, /map offset.*0x800/],
    [0, { offset: 0x4000 }, /map offset/],
    [0, { size: 0 }, /map size/],
    [0, { size: 0x1001 }, /map size/],
    [0, { offset: 0x1000, size: 0x4000 }, /runs past/],
    [2 ** 52 - 0x2000, {}, /ends above/],
    [0, { prot: 'wx' }, /prot.*"wx"/],
    [0, { protection: 'r' }, /unknown field "protection"/],
  ];
  for (const [gpa, opts, re] of cases) assert.throws(() => m.map(gpa, ram, opts), vmmErrorLike('EINVAL', re), `map(${gpa}, ${JSON.stringify(opts)})`);
  assert.throws(() => m.map(0, { bytes: new Uint8Array(4096), size: 4096 }), vmmErrorLike('EINVAL', /not allocated by this machine/));
  const other = hv.createMachine();
  assert.throws(() => other.map(0, ram), vmmErrorLike('EINVAL', /not allocated by this machine/));
  assert.equal(fb.named('machine.map').length, 0, 'the backend saw none of the bad maps');
  m.map(0x10000, ram, { offset: 0x1000, size: 0x2000, prot: 'rx' });
  assert.deepEqual(fb.named('machine.map')[0], ['machine.map', 1, 0x10000, ram, 0x1000, 0x2000, 'rx']);
  m.map(0x20000, ram);
  assert.deepEqual(fb.named('machine.map')[1], ['machine.map', 1, 0x20000, ram, 0, 0x4000, 'rwx']);
  assert.equal(m.info.ram, 0x6000);
  hv.close();
});

test('map: overlapping ranges throw EEXIST, neighbours are fine', () => {
  const { fb, hv, m } = setup();
  const ram = m.allocate(0x10000);
  m.map(0x10000, ram, { size: 0x4000 });
  for (const [gpa, size] of [[0x10000, 0x1000], [0xf000, 0x2000], [0x13000, 0x1000], [0x8000, 0x10000]] as const) {
    assert.throws(() => m.map(gpa, ram, { size }), vmmErrorLike('EEXIST', /overlaps the mapping at 0x10000\+0x4000/), `${gpa}+${size}`);
  }
  m.map(0xf000, ram, { size: 0x1000 });
  m.map(0x14000, ram, { size: 0x1000 });
  assert.equal(fb.named('machine.map').length, 3);
  hv.close();
});

test('gpaToHost finds the memory and offset, undefined for holes', () => {
  const { hv, m } = setup();
  const ram = m.allocate(0x4000);
  m.map(0x100000, ram, { offset: 0x1000, size: 0x2000, prot: 'r' });
  m.map(0x200000, ram, { offset: 0x3000, size: 0x1000 });
  assert.deepEqual(m.gpaToHost(0x100000), { memory: ram, offset: 0x1000, prot: 'r' });
  assert.deepEqual(m.gpaToHost(0x101fff), { memory: ram, offset: 0x2fff, prot: 'r' });
  assert.equal(m.gpaToHost(0x102000), undefined);
  assert.equal(m.gpaToHost(0xfffff), undefined);
  assert.deepEqual(m.gpaToHost(0x200010), { memory: ram, offset: 0x3010, prot: 'rwx' });
  assert.equal(m.gpaToHost(0), undefined);
  assert.throws(() => m.gpaToHost(-1), vmmErrorLike('EINVAL', /gpa/));
  assert.throws(() => m.gpaToHost(1.5), vmmErrorLike('EINVAL', /gpa/));
  hv.close();
});

test('unmap: whole ranges, split ranges, holes are ENOENT', () => {
  const { fb, hv, m } = setup();
  const ram = m.allocate(0x8000);
  m.map(0x10000, ram, { size: 0x4000 });
  m.map(0x14000, ram, { offset: 0x4000, size: 0x4000, prot: 'r' });
  assert.throws(() => m.unmap(0x10001, 0x1000), vmmErrorLike('EINVAL', /unmap gpa/));
  assert.throws(() => m.unmap(0x10000, 0), vmmErrorLike('EINVAL', /unmap size/));
  assert.throws(() => m.unmap(0xf000, 0x2000), vmmErrorLike('ENOENT', /0xf000 .*not mapped/));
  assert.throws(() => m.unmap(0x17000, 0x2000), vmmErrorLike('ENOENT', /0x18000 .*not mapped/));
  assert.equal(fb.named('machine.unmap').length, 0);
  // a range across both mappings, cutting each: both are split
  fb.calls.length = 0;
  m.unmap(0x12000, 0x4000);
  assert.deepEqual(m.mappings(), [
    { gpa: 0x10000, size: 0x2000, offset: 0, prot: 'rwx' },
    { gpa: 0x16000, size: 0x2000, offset: 0x6000, prot: 'r' },
  ]);
  assert.deepEqual(fb.calls.map((c) => c.filter((x) => typeof x !== 'object')), [
    ['machine.unmap', 1, 0x10000, 0x4000], ['machine.map', 1, 0x10000, 0, 0x2000, 'rwx'],
    ['machine.unmap', 1, 0x14000, 0x4000], ['machine.map', 1, 0x16000, 0x6000, 0x2000, 'r'],
  ]);
  assert.equal(m.gpaToHost(0x12000), undefined);
  assert.deepEqual(m.gpaToHost(0x16000), { memory: ram, offset: 0x6000, prot: 'r' });
  // memory in use cannot be freed
  assert.throws(() => m.free(ram), vmmErrorLike('EBUSY', /2 range/));
  m.unmap(0x10000, 0x2000);
  m.unmap(0x16000, 0x2000);
  assert.deepEqual(m.mappings(), []);
  m.free(ram);
  assert.throws(() => m.map(0, ram), vmmErrorLike('EINVAL', /freed/));
  hv.close();
});

test('createMachine hostWrites: unannounced or announced, passed to the backend; anything else EINVAL', () => {
  const fb = fakeBackend();
  const hv = Hypervisor.fromBackend(fb);
  for (const bad of ['yes', true, 1, null]) {
    assert.throws(() => hv.createMachine({ hostWrites: bad as 'announced' }), vmmErrorLike('EINVAL', /hostWrites must be 'unannounced' or 'announced'/));
  }
  assert.equal(fb.named('createMachine').length, 0, 'the backend saw none of the bad options');
  hv.createMachine({ hostWrites: 'announced' });
  hv.createMachine({ hostWrites: 'unannounced', tsc: 'host' });
  hv.createMachine();
  assert.deepEqual(fb.named('createMachine').map((c) => c[2]), [{ hostWrites: 'announced' }, { tsc: 'host', hostWrites: 'unannounced' }, {}]);
  hv.close();
});

test('hostWrote: byte ranges inside mapped RAM reach the backend as the pages they touch', () => {
  const { fb, hv, m } = setup();
  const ram = m.allocate(0x4000);
  m.map(0x10000, ram, { size: 0x2000 });
  m.map(0x12000, ram, { offset: 0x2000, size: 0x1000 });
  m.hostWrote(0x10ffe, 4);
  m.hostWrote(0x12000, 1);
  m.hostWrote(0x10000, 0x3000);
  assert.deepEqual(fb.named('machine.hostWrote'), [
    ['machine.hostWrote', 1, 0x10000, 0x2000], ['machine.hostWrote', 1, 0x12000, 0x1000], ['machine.hostWrote', 1, 0x10000, 0x3000],
  ]);
  for (const [gpa, size] of [[-1, 1], [65536.5, 1], [0x10000, 0], [0x10000, -4], [2 ** 52, 1], [0x10000, 2 ** 52], ['0x10000', 1]] as [number, number][]) {
    assert.throws(() => m.hostWrote(gpa, size), vmmErrorLike('EINVAL', /hostWrote (gpa|size)/), `hostWrote(${gpa}, ${size})`);
  }
  assert.throws(() => m.hostWrote(0x12fff, 2), vmmErrorLike('EFAULT', /hostWrote: 0x13000 in range 0x12fff\+0x2 is not mapped/));
  assert.throws(() => m.hostWrote(0xf000, 0x1001), vmmErrorLike('EFAULT', /hostWrote: 0xf000 in range/));
  assert.equal(fb.named('machine.hostWrote').length, 3, 'the backend saw none of the bad calls');
  m.destroy();
  assert.throws(() => m.hostWrote(0x10000, 1), vmmErrorLike('ENOENT'));
  hv.close();
});

test('createVcpu: ids 0..127, duplicates EEXIST, ids reusable after destroy', () => {
  const { fb, hv, m } = setup();
  for (const bad of [-1, 128, 1.5, '0', undefined]) assert.throws(() => m.createVcpu(bad as number), vmmErrorLike('EINVAL', /vCPU id/));
  const c0 = m.createVcpu(0);
  const c127 = m.createVcpu(127);
  assert.equal(c127.id, 127);
  assert.equal(c0.machine, m);
  assert.throws(() => m.createVcpu(0), vmmErrorLike('EEXIST', /vCPU 0 already exists/));
  assert.equal(m.vcpu(127), c127);
  assert.equal(m.info.vcpus, 2);
  c0.destroy();
  assert.throws(() => c0.destroy(), vmmErrorLike('ENOENT'));
  assert.equal(m.vcpu(0), undefined);
  const again = m.createVcpu(0);
  assert.notEqual(again, c0);
  assert.deepEqual(fb.named('machine.createVcpu').map((c) => c[2]), [0, 127, 0]);
  hv.close();
});

test('destroy: vCPUs first, then the machine, then its memory; everything refuses use afterwards', () => {
  const { fb, hv, m } = setup();
  const ram = m.allocate(0x1000);
  m.map(0, ram);
  const cpu = m.createVcpu(3);
  fb.calls.length = 0;
  m.destroy();
  assert.deepEqual(fb.calls, [['vcpu.destroy', 1, 3], ['machine.destroy', 1], ['release', 0x1000]]);
  for (const use of [
    () => m.allocate(4096), () => m.map(0, ram), () => m.unmap(0, 4096), () => m.gpaToHost(0),
    () => m.createVcpu(0), () => m.destroy(), () => m.mappings(), () => m.free(ram),
    () => cpu.getState(), () => cpu.setState({ gprs: { rax: 1n } }), () => cpu.run(), () => cpu.stop(),
    () => cpu.inject({ type: 'nmi' }), () => cpu.configureTpr({ exitChanged: true }), () => cpu.stopHandle(),
  ]) assert.throws(use, vmmErrorLike('ENOENT', /destroyed/));
  assert.equal(fb.calls.length, 3, 'nothing reached the backend after destroy');
  hv.close();
});
