import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, MAX_MACHINES, VmmError } from '../../src/index.js';
import { effectiveChoice, openBackend } from '../../src/frontend/backend-select.js';
import type { BackendModules } from '../../src/frontend/backend-select.js';
import type { Backend } from '../../src/backends/backend.js';
import { kvmWithoutHardware } from '../../src/backends/kvm/host-kind.js';
import { stopVcpu } from '../../src/index.js';
import { fakeBackend, useTempRundir, fakeCapability, vmmErrorLike } from './fake-backend.js';

useTempRundir();

test('open rejects unknown backends and unknown options', () => {
  assert.throws(() => Hypervisor.open({ backend: 'qemu' as 'kvm' }), vmmErrorLike('EINVAL', /"qemu"/));
  assert.throws(() => Hypervisor.open({ backnd: 'kvm' } as object), vmmErrorLike('EINVAL', /"backnd"/));
});

test('TSVISOR_BACKEND replaces auto only, and is validated', () => {
  assert.equal(effectiveChoice('auto', {}), 'auto');
  assert.equal(effectiveChoice('auto', { TSVISOR_BACKEND: 'soft' }), 'soft');
  assert.equal(effectiveChoice('auto', { TSVISOR_BACKEND: 'kvm' }), 'kvm');
  assert.equal(effectiveChoice('auto', { TSVISOR_BACKEND: '' }), 'auto');
  assert.equal(effectiveChoice('kvm', { TSVISOR_BACKEND: 'soft' }), 'kvm');
  assert.equal(effectiveChoice('soft', { TSVISOR_BACKEND: 'kvm' }), 'soft');
  assert.throws(() => effectiveChoice('auto', { TSVISOR_BACKEND: 'vmx' }), vmmErrorLike('EINVAL', /TSVISOR_BACKEND.*"vmx"/));
});

test("'auto' takes KVM when usable and hardware virtualization, else soft; neither -> ENODEV naming both reasons", () => {
  const kvm = fakeBackend(), soft = fakeBackend();
  const refuse = (why: string) => (): Backend => { throw new VmmError('ENODEV', why); };
  const modules = (kvmWhy: string | undefined, kvmOpen: () => Backend, softOpen: () => Backend, software?: string): BackendModules =>
    ({ open: { kvm: kvmOpen, soft: softOpen }, kvmUnusableReason: () => kvmWhy, kvmWithoutHardware: () => software });
  assert.equal(openBackend('auto', modules(undefined, () => kvm, () => soft)), kvm);
  assert.equal(openBackend('auto', modules(undefined, () => kvm, () => soft, 'PVM')), soft, 'a software KVM is passed over');
  assert.equal(openBackend('kvm', modules(undefined, () => kvm, () => soft, 'PVM')), kvm, 'unless asked for by name');
  assert.throws(() => openBackend('auto', modules(undefined, () => kvm, refuse('soft CPU not built'), 'PVM')),
    vmmErrorLike('ENODEV', /no backend usable: kvm: PVM; soft/));
  assert.equal(openBackend('auto', modules('no /dev/kvm', () => kvm, () => soft)), soft);
  assert.equal(openBackend('auto', modules(undefined, refuse('KVM_CREATE_VM failed'), () => soft)), soft, 'KVM refusing with ENODEV falls back too');
  assert.throws(() => openBackend('auto', modules('no /dev/kvm', () => kvm, refuse('soft CPU not built'))),
    vmmErrorLike('ENODEV', /no backend usable: kvm: no \/dev\/kvm; soft: ENODEV: soft CPU not built/));
  // an explicit choice never falls back
  assert.throws(() => openBackend('kvm', modules(undefined, refuse('KVM_CREATE_VM failed'), () => soft)), vmmErrorLike('ENODEV', /KVM_CREATE_VM/));
  assert.equal(openBackend('soft', modules(undefined, () => kvm, () => soft)), soft);
  // other errors are not swallowed by the fallback
  const boom = (): Backend => { throw new VmmError('EPERM', 'no access'); };
  assert.throws(() => openBackend('auto', modules(undefined, boom, () => soft)), vmmErrorLike('EPERM'));
});

test('kvmWithoutHardware: a KVM whose host CPU lists neither vmx nor svm, naming the PVM module when loaded', () => {
  const cpuinfo = (flags: string): string => `processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: ${flags}\n\nprocessor\t: 1\n`;
  assert.equal(kvmWithoutHardware(cpuinfo('fpu vme de vmx sse'), false), undefined);
  assert.equal(kvmWithoutHardware(cpuinfo('fpu svm lm'), true), undefined);
  assert.match(kvmWithoutHardware(cpuinfo('fpu sse hypervisor'), true) ?? '', /PVM module \(kvm_pvm\).*neither vmx nor svm/);
  assert.match(kvmWithoutHardware(cpuinfo('fpu sse'), false) ?? '', /^\/dev\/kvm here is a KVM without VT-x or AMD-V/);
  assert.equal(kvmWithoutHardware('no flags line here', true), undefined, 'unknown: taken to be hardware');
  assert.equal(kvmWithoutHardware(cpuinfo('fpu vmxx svm2'), false)?.includes('neither'), true, 'whole words only');
});

test('capability: the frontend owns version and limits, a backend can only lower them', () => {
  const hv = Hypervisor.fromBackend(fakeBackend());
  const cap = hv.capability();
  assert.equal(cap.maxMachines, MAX_MACHINES);
  assert.equal(cap.maxVcpus, 128);
  assert.equal(cap.version, 1);
  assert.equal(cap.stateSize, 1024);
  assert.equal(cap.arch.xcr0Mask, 0x7n);
  // the caller's copy cannot change the hypervisor's limits
  cap.maxVcpus = 1000;
  cap.arch.vcpuConf.cpuid = false;
  assert.equal(hv.capability().maxVcpus, 128);
  assert.equal(hv.capability().arch.vcpuConf.cpuid, true);
  const low = Hypervisor.fromBackend(fakeBackend(fakeCapability({ maxVcpus: 4 })));
  assert.equal(low.capability().maxVcpus, 4);
  const m = low.createMachine();
  assert.throws(() => m.createVcpu(4), vmmErrorLike('EINVAL', /vCPU id.*\[0, 3\].*4/));
  hv.close(); low.close();
});

test('the 129th live machine throws ENOBUFS; destroying one frees a slot', () => {
  const fb = fakeBackend();
  const hv = Hypervisor.fromBackend(fb);
  const ms = Array.from({ length: MAX_MACHINES }, () => hv.createMachine());
  assert.equal(new Set(ms.map((m) => m.id)).size, MAX_MACHINES, 'machine ids are unique');
  assert.throws(() => hv.createMachine(), vmmErrorLike('ENOBUFS', /128/));
  // the limit is per process, not per Hypervisor
  const hv2 = Hypervisor.fromBackend(fakeBackend());
  assert.throws(() => hv2.createMachine(), vmmErrorLike('ENOBUFS'));
  assert.equal(fb.named('createMachine').length, MAX_MACHINES, 'the backend never saw the refused machine');
  ms[5]!.destroy();
  const again = hv.createMachine();
  assert.throws(() => hv.createMachine(), vmmErrorLike('ENOBUFS'));
  again.destroy();
  hv.close();
  // close destroyed the rest: a fresh hypervisor has all slots again
  const ms2 = Array.from({ length: MAX_MACHINES }, () => hv2.createMachine());
  assert.equal(ms2.length, MAX_MACHINES);
  hv2.close();
});

test('close destroys live machines and vCPUs, then refuses all use', () => {
  const fb = fakeBackend();
  const hv = Hypervisor.fromBackend(fb);
  const m = hv.createMachine();
  const ram = m.allocate(8192);
  m.map(0, ram);
  const cpu = m.createVcpu(0);
  hv.close();
  assert.deepEqual(fb.calls.slice(-4).map((c) => c[0]), ['vcpu.destroy', 'machine.destroy', 'release', 'close']);
  assert.ok(m.isDestroyed && cpu.isDestroyed && hv.isClosed);
  assert.throws(() => hv.createMachine(), vmmErrorLike('ENOENT', /closed/));
  assert.throws(() => hv.capability(), vmmErrorLike('ENOENT'));
  assert.throws(() => hv.close(), vmmErrorLike('ENOENT'));
  assert.throws(() => m.map(0x10000, ram), vmmErrorLike('ENOENT', /machine \d+ has been destroyed/));
  assert.throws(() => cpu.run(), vmmErrorLike('ENOENT', /vCPU 0 of machine \d+/));
});

test('stopVcpu validates the handle before dispatching', () => {
  assert.throws(() => stopVcpu({ backend: 'xen' as 'kvm', data: {} }), vmmErrorLike('EINVAL', /"xen"/));
  assert.throws(() => stopVcpu({ backend: 'soft', data: null as unknown as Record<string, unknown> }), vmmErrorLike('EINVAL', /data/));
  assert.throws(() => stopVcpu(42 as unknown as { backend: 'soft'; data: {} }), vmmErrorLike('EINVAL'));
  // a well-formed handle goes to the backend, which checks its own data (and says so);
  // real dispatch is in stop-real.test.ts
  assert.throws(() => stopVcpu({ backend: 'soft', data: {} }), (e) => e instanceof VmmError && !/stop handle (backend|data) must/.test(e.message));
});
