import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State } from '../../src/index.js';
import type { Segment, Vcpu, VcpuStateInput } from '../../src/index.js';
import { resetState } from '../../src/x86/boot-state.js';
import { fakeBackend, useTempRundir, vmmErrorLike } from './fake-backend.js';
import type { FakeBackend } from './fake-backend.js';

useTempRundir();

function setup(): { fb: FakeBackend; hv: Hypervisor; cpu: Vcpu } {
  const fb = fakeBackend();
  const hv = Hypervisor.fromBackend(fb);
  return { fb, hv, cpu: hv.createMachine().createVcpu(0) };
}

const seg = (over: Partial<Segment> = {}): Segment =>
  ({ selector: 8, base: 0n, limit: 0xffffffff, type: 11, s: 1, dpl: 0, p: 1, avl: 0, l: 1, def: 0, g: 1, ...over });

test('getState: flags default to ALL, must be a non-empty subset of ALL', () => {
  const { fb, hv, cpu } = setup();
  cpu.getState();
  cpu.getState(State.GPRS | State.SEGS);
  assert.deepEqual(fb.named('vcpu.getState').map((c) => c[3]), [State.ALL, State.GPRS | State.SEGS]);
  for (const bad of [0, 0x80, -1, 1.5, '2', 0x7f | 0x100]) {
    assert.throws(() => cpu.getState(bad as number), vmmErrorLike('EINVAL', /state flags/));
  }
  hv.close();
});

test('setState: flags are the groups present; the backend gets the input untouched', () => {
  const { fb, hv, cpu } = setup();
  const s: VcpuStateInput = { gprs: { rax: 5n, rip: 0xfff0n }, intr: { intShadow: true } };
  cpu.setState(s);
  cpu.setState({ crs: { cr3: 0x1000n } }, State.CRS);
  const calls = fb.named('vcpu.setState');
  assert.equal(calls[0]![3], s);
  assert.equal(calls[0]![4], State.GPRS | State.INTR);
  assert.equal(calls[1]![4], State.CRS);
  assert.throws(() => cpu.setState({ gprs: { rax: 1n } }, State.GPRS | State.CRS), vmmErrorLike('EINVAL', /do not match/));
  assert.throws(() => cpu.setState({ gprs: { rax: 1n }, crs: { cr2: 0n } }, State.GPRS), vmmErrorLike('EINVAL', /do not match/));
  assert.throws(() => cpu.setState({}), vmmErrorLike('EINVAL', /no group/));
  assert.throws(() => cpu.setState({ regs: {} } as VcpuStateInput), vmmErrorLike('EINVAL', /unknown field "regs"/));
  assert.throws(() => cpu.setState(null as unknown as VcpuStateInput), vmmErrorLike('EINVAL', /state must be an object/));
  assert.equal(calls.length, 2);
  hv.close();
});

test('setState: the reset state from boot-state.ts passes', () => {
  const { fb, hv, cpu } = setup();
  cpu.setState(resetState());
  assert.equal(fb.named('vcpu.setState').length, 1);
  hv.close();
});

test('setState: value types and ranges per field', () => {
  const { fb, hv, cpu } = setup();
  const bad: [VcpuStateInput, RegExp][] = [
    [{ gprs: { rax: 1 as unknown as bigint } }, /gprs\.rax must be a bigint in \[0, 2\^64\), got 1/],
    [{ gprs: { rbx: -1n } }, /gprs\.rbx.*-1n/],
    [{ gprs: { rip: 1n << 64n } }, /gprs\.rip/],
    [{ gprs: { rflags: 1n << 22n } }, /gprs\.rflags.*2\^22/],
    [{ gprs: { eax: 1n } as VcpuStateInput['gprs'] }, /unknown field "eax"/],
    [{ segs: { cs: { selector: 8 } as Segment } }, /segs\.cs\.base is missing/],
    [{ segs: { cs: seg({ dpl: 4 }) } }, /segs\.cs\.dpl.*\[0, 3\]/],
    [{ segs: { cs: seg({ type: 16 }) } }, /segs\.cs\.type/],
    [{ segs: { ds: seg({ selector: 0x10000 }) } }, /segs\.ds\.selector/],
    [{ segs: { ds: seg({ base: 5 as unknown as bigint }) } }, /segs\.ds\.base/],
    [{ segs: { gdt: seg({ limit: 0x10000 }) } }, /segs\.gdt\.limit.*65535/],
    [{ segs: { fs: seg({ g: true as unknown as number }) } }, /segs\.fs\.g/],
    [{ crs: { cr0: 1n << 32n } }, /crs\.cr0/],
    [{ crs: { cr0: 0x80000000n } }, /CR0\.PG \(bit 31\) without CR0\.PE \(bit 0\) \(CR0 0x80000000,/],
    [{ crs: { cr0: 0x20000011n } }, /CR0\.NW \(bit 29\) without CR0\.CD \(bit 30\) \(CR0 0x20000011,/],
    [{ crs: { cr4: 1n << 32n } }, /crs\.cr4/],
    [{ crs: { cr0: 0x80000011n, cr4: 0n }, msrs: { efer: 0x500n } }, /long mode \(EFER\.LME with CR0\.PG\) without CR4\.PAE \(CR0 0x80000011, CR4 0x0, EFER 0x500/],
    [{ crs: { cr0: 0x80000011n, cr4: 0x20n }, msrs: { efer: 0x100n } }, /EFER\.LME with CR0\.PG but EFER\.LMA clear/],
    [{ crs: { cr0: 0x11n }, msrs: { efer: 0x400n } }, /EFER\.LMA without EFER\.LME and CR0\.PG/],
    [{ crs: { cr8: 16n } }, /crs\.cr8/],
    [{ crs: { xcr0: 0x2n } }, /xcr0 must have bit 0/],
    [{ crs: { xcr0: 0xfn } }, /xcr0 0xf enables features outside xcr0Mask 0x7/],
    [{ drs: { dr7: 1n << 32n } }, /drs\.dr7/],
    [{ msrs: { efer: -5n } }, /msrs\.efer/],
    [{ intr: { intShadow: 1 as unknown as boolean } }, /intr\.intShadow must be a boolean/],
    [{ fpu: { fcw: 0x10000 } }, /fpu\.fcw/],
    [{ fpu: { ftw: 0x100 } }, /fpu\.ftw/],
    [{ fpu: { mxcsr: 0x10000 } }, /mxcsr 0x10000 sets bits outside mxcsrMask 0xffff/],
    [{ fpu: { st: [new Uint8Array(10)] } }, /fpu\.st must be an array of 8/],
    [{ fpu: { xmm: Array.from({ length: 16 }, (_, i) => new Uint8Array(i === 9 ? 8 : 16)) } }, /fpu\.xmm\[9\]/],
  ];
  for (const [s, re] of bad) assert.throws(() => cpu.setState(s), vmmErrorLike('EINVAL', re), JSON.stringify(s, (_k, v) => typeof v === 'bigint' ? `${v}n` : v));
  assert.equal(fb.named('vcpu.setState').length, 0, 'nothing invalid reached the backend');
  // the edges of each range are accepted
  cpu.setState({
    gprs: { rax: (1n << 64n) - 1n, rflags: (1n << 22n) - 1n },
    // l: 0: CR0 0xffffffff without EFER.LME is not long mode, where a 64-bit CS is refused.
    segs: { cs: seg({ selector: 0xffff, dpl: 3, type: 15, l: 0 }), gdt: seg({ limit: 0xffff }) },
    crs: { cr8: 15n, xcr0: 0x7n, cr0: 0xffffffffn },
    fpu: { mxcsr: 0xffff, st: Array.from({ length: 8 }, () => new Uint8Array(10)), ftw: 0xff },
  });
  assert.equal(fb.named('vcpu.setState').length, 1);
  hv.close();
});

test('inject: exception, interrupt and NMI rules', () => {
  const { fb, hv, cpu } = setup();
  cpu.inject({ type: 'exception', vector: 6 });
  cpu.inject({ type: 'exception', vector: 13, errorCode: 0x18 });
  cpu.inject({ type: 'exception', vector: 14 });
  cpu.inject({ type: 'interrupt', vector: 0 });
  cpu.inject({ type: 'interrupt', vector: 255 });
  cpu.inject({ type: 'nmi' });
  assert.deepEqual(fb.named('vcpu.inject').map((c) => c[3]), [
    { type: 'exception', vector: 6 },
    { type: 'exception', vector: 13, errorCode: 0x18 },
    { type: 'exception', vector: 14, errorCode: 0 },
    { type: 'interrupt', vector: 0 },
    { type: 'interrupt', vector: 255 },
    { type: 'nmi' },
  ]);
  const bad: [unknown, RegExp][] = [
    [{ type: 'exception', vector: 2 }, /NMI/],
    [{ type: 'exception', vector: 32 }, /exception vector.*32/],
    [{ type: 'exception', vector: -1 }, /exception vector/],
    [{ type: 'exception', vector: 6, errorCode: 0 }, /vector 6 pushes no error code/],
    [{ type: 'exception', vector: 13, errorCode: 2 ** 32 }, /errorCode/],
    [{ type: 'interrupt', vector: 256 }, /interrupt vector.*256/],
    [{ type: 'interrupt', vector: 32, errorCode: 1 }, /unknown field "errorCode"/],
    [{ type: 'nmi', vector: 2 }, /unknown field "vector"/],
    [{ type: 'smi' }, /event type.*"smi"/],
    [{ type: 'interrupt', vector: 3.5 }, /interrupt vector/],
    ['nmi', /event must be an object/],
  ];
  for (const [e, re] of bad) assert.throws(() => cpu.inject(e as { type: 'nmi' }), vmmErrorLike('EINVAL', re), JSON.stringify(e));
  assert.equal(fb.named('vcpu.inject').length, 6);
  hv.close();
});

test('configureCpuid: uint32 masks (int32 normalized), bool exit, per-vCPU leaf budget', () => {
  const { fb, hv, cpu } = setup();
  cpu.configureCpuid(1, { set: { ecx: 1 << 31 }, del: { edx: 0x10 }, exit: false });
  cpu.configureCpuid(0x40000000, { exit: true });
  assert.deepEqual(fb.named('vcpu.configureCpuid').map((c) => [c[3], c[4]]), [
    [1, { set: { ecx: 0x80000000 }, del: { edx: 0x10 }, exit: false }],
    [0x40000000, { exit: true }],
  ]);
  const bad: [unknown, unknown, RegExp][] = [
    [-1, {}, /CPUID leaf/],
    [2 ** 32, {}, /CPUID leaf/],
    [1, { set: { eax: 2 ** 32 } }, /conf\.set\.eax/],
    [1, { del: { r8: 1 } }, /unknown field "r8"/],
    [1, { exit: 'yes' }, /conf\.exit must be a boolean/],
    [1, { exits: true }, /unknown field "exits"/],
  ];
  for (const [leaf, conf, re] of bad) assert.throws(() => cpu.configureCpuid(leaf as number, conf as object), vmmErrorLike('EINVAL', re));
  // the fake reports cpuidMaxOps = 4: two more distinct leaves fit, reconfiguring one is free, the fifth is ENOBUFS
  cpu.configureCpuid(2, { del: { ebx: 0xff000000 }, set: { ebx: 120 << 24 } }); // replace a field: set and del overlap
  assert.deepEqual(fb.named('vcpu.configureCpuid').at(-1)![4], { set: { ebx: 120 << 24 }, del: { ebx: 0xff000000 } });
  cpu.configureCpuid(3, {});
  cpu.configureCpuid(1, { exit: true });
  assert.throws(() => cpu.configureCpuid(4, {}), vmmErrorLike('ENOBUFS', /leaf 0x4/));
  assert.equal(fb.named('vcpu.configureCpuid').length, 5);
  hv.close();
});

test('configureTpr takes exactly { exitChanged: boolean }', () => {
  const { fb, hv, cpu } = setup();
  cpu.configureTpr({ exitChanged: true });
  assert.deepEqual(fb.named('vcpu.configureTpr')[0]![3], { exitChanged: true });
  assert.throws(() => cpu.configureTpr({} as { exitChanged: boolean }), vmmErrorLike('EINVAL', /exitChanged must be a boolean/));
  assert.throws(() => cpu.configureTpr({ exitChanged: true, x: 1 } as { exitChanged: boolean }), vmmErrorLike('EINVAL', /"x"/));
  hv.close();
});

test('run, stop and stopHandle go to the backend', () => {
  const { fb, hv, cpu } = setup();
  assert.equal(cpu.run().reason, 'halted');
  cpu.stop();
  assert.deepEqual(cpu.stopHandle(), { backend: 'soft', data: { mid: 1, id: 0 } });
  assert.deepEqual(fb.calls.slice(-2).map((c) => c[0]), ['vcpu.run', 'vcpu.stop']);
  hv.close();
});

test('gvaToGpa walks the guest page tables through the machine map (src/x86/mmu)', () => {
  const { fb, hv, cpu } = setup();
  const m = cpu.machine;
  const ram = m.allocate(0x4000);
  m.map(0, ram);
  const v = new DataView(ram.bytes.buffer, ram.bytes.byteOffset);
  // 32-bit non-PAE paging: CR3 = 0x1000 -> PDE[1] -> page table at 0x2000, PTE[5] -> frame 0x3000
  v.setUint32(0x1000 + 1 * 4, 0x2000 | 0x7, true);
  v.setUint32(0x2000 + 5 * 4, 0x3000 | 0x3, true);
  const gva = (1 << 22) | (5 << 12) | 0x123;
  fb.vcpuState = {
    crs: { cr0: 0x80000011n, cr2: 0n, cr3: 0x1000n, cr4: 0n, cr8: 0n, xcr0: 1n },
    msrs: { efer: 0n, star: 0n, lstar: 0n, cstar: 0n, sfmask: 0n, kernelgsbase: 0n, sysenterCs: 0n, sysenterEsp: 0n, sysenterEip: 0n, pat: 0n, tsc: 0n },
    gprs: { rax: 0n, rcx: 0n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, rsi: 0n, rdi: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0n, rflags: 2n },
  };
  const t = cpu.gvaToGpa(gva);
  assert.equal(t.gpa, 0x3123);
  assert.equal(t.prot.write, true);
  assert.equal(t.prot.user, false, 'the PTE has no U bit');
  assert.throws(() => cpu.gvaToGpa(gva + 0x1000), vmmErrorLike('EFAULT'));
  assert.equal(cpu.gvaToGpa(BigInt(gva)).gpa, 0x3123, 'a bigint GVA works too');
  assert.equal(cpu.gvaToGpa(gva, { write: true }).gpa, 0x3123);
  assert.throws(() => cpu.gvaToGpa(gva, { user: true }), vmmErrorLike('EFAULT'), 'a user access to a supervisor page faults');
  assert.throws(() => cpu.gvaToGpa(Object.create(null) as number), vmmErrorLike('EINVAL', /gva must be an integer in/));
  // Negative, inexact or out-of-range addresses are refused as gpaToHost refuses them, never wrapped.
  for (const bad of [-1, 2 ** 53 + 1, 2 ** 64, 0.5, NaN, Infinity]) {
    assert.throws(() => cpu.gvaToGpa(bad), vmmErrorLike('EINVAL', /gva must be an integer in \[0, 9007199254740991\]/), String(bad));
  }
  for (const bad of [-1n, 1n << 64n]) assert.throws(() => cpu.gvaToGpa(bad), vmmErrorLike('EINVAL', /gva must be a bigint in \[0, 2\^64\)/), String(bad));
  assert.throws(() => cpu.gvaToGpa('0x1000' as unknown as number), vmmErrorLike('EINVAL', /gva/));
  assert.throws(() => cpu.gvaToGpa(gva, { wirte: true } as object), vmmErrorLike('EINVAL', /unknown field "wirte"/));
  assert.throws(() => cpu.gvaToGpa(gva, { write: 1 } as object), vmmErrorLike('EINVAL', /access\.write must be a boolean/));
  hv.close();
});

test('assistIo/assistMem delegate to src/x86/assist after checking the handler', () => {
  const { fb, hv, cpu } = setup();
  const exitState = { rflags: 2n, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false };
  const exit = { reason: 'io', port: 0x80, in: false, size: 1, data: new Uint8Array([0x42]), rep: false, str: false, npc: 0x1002n, exitState } as const;
  const seen: unknown[] = [];
  cpu.assistIo(exit, (req) => { seen.push({ ...req, data: [...req.data] }); });
  assert.deepEqual(seen, [{ port: 0x80, in: false, size: 1, data: [0x42] }]);
  const set = fb.named('vcpu.setState').at(-1)!;
  assert.equal((set[3] as { gprs: { rip: bigint } }).gprs.rip, 0x1002n, 'RIP advanced to npc');
  assert.throws(() => cpu.assistIo(exit, 'print' as unknown as () => void), vmmErrorLike('EINVAL', /handler must be a function/));
  const memExit = { reason: 'memory', gpa: 0x1000, write: false, size: 4, prot: 'r', instBytes: new Uint8Array(0), exitState } as const;
  assert.throws(() => cpu.assistMem(memExit, null as unknown as () => void), vmmErrorLike('EINVAL', /handler must be a function/));
  assert.throws(() => cpu.assistMem(exit, () => {}), vmmErrorLike('EINVAL', /'memory' exit/));
  assert.throws(() => cpu.assistIo(memExit, () => {}), vmmErrorLike('EINVAL', /'io' exit/));
  assert.throws(() => cpu.assistIo({ ...exit, size: 3 }, () => {}), vmmErrorLike('EINVAL', /size must be 1, 2 or 4/));
  assert.throws(() => cpu.assistIo({ ...exit, data: new Uint8Array(0) }, () => {}), vmmErrorLike('EINVAL', /data holds 0 bytes/));
  assert.throws(() => cpu.assistMem({ ...memExit, instBytes: [0x90] as unknown as Uint8Array }, () => {}), vmmErrorLike('EINVAL', /instBytes must be a Uint8Array/));
  cpu.destroy();
  assert.throws(() => cpu.assistIo(exit, () => {}), vmmErrorLike('ENOENT', /destroyed/));
  assert.throws(() => cpu.gvaToGpa(0), vmmErrorLike('ENOENT', /destroyed/));
  hv.close();
});
