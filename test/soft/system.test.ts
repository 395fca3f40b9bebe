/**
 * Soft CPU: SYSCALL/SYSRET round trips (guests/soft-syscall.S), self-modifying code
 * (guests/soft-smc.S), and the exits a VMM sees: MMIO 'memory' exits completed by assistMem,
 * writes to read-only RAM, CPUID masks, exit leaves and clock leaves, unknown MSRs, CR8 changes, and an
 * unimplemented instruction reported as an 'invalid' exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import { realModeState } from '../../src/x86/boot-state.js';
import { le32 } from '../support.js';
import { gprs, load, longMode, RAM_SIZE, runLogged, runToOutE9, setGate64, softCpu, softVm } from './vm.js';
import type { HostWrites } from '../../src/index.js';
import { ARCH_CAPABILITIES } from '../../src/backends/soft/msr.js';
import { configureVcpuCpuid, tscCrystalLeaf } from '../../src/vmm/core/vcpu-interrupts.js';
import { APIC_BUS_HZ } from '../../src/vmm/irq/lapic-registers.js';
import { TSC_HZ } from '../../src/vmm/core/time-base.js';

test('SYSCALL/SYSRET: 200 round trips between CPL3 and CPL0', () => {
  const vm = softVm();
  load(vm, 'soft-syscall', 0x10000);
  vm.cpu.setState(longMode(vm, 0x10000));
  const { log, end } = runLogged(vm.cpu);
  assert.equal(end.reason, 'io');
  let sum = 0;
  for (let i = 1; i <= 200; i++) sum += i * i;
  assert.deepEqual(log, [sum, 200]);
  const g = gprs(vm.cpu);
  // RCX after each SYSCALL = its return RIP, 10 bytes past the loop label (mov, imul, std, syscall).
  assert.equal(g.r8, 200n * 10n);
  // R11 = RFLAGS at the last SYSCALL (after CLD): IF set, DF clear; the kernel ran with SFMASK applied.
  assert.equal(g.r11 & 0x600n, 0x200n);
  const segs = vm.cpu.getState(State.SEGS).segs!;
  assert.equal(segs.cs.selector, 0x08, 'back in the kernel after the final SYSCALL');
});

test('self-modifying code: patched immediates and overwritten instructions take effect', () => {
  const vm = softVm();
  load(vm, 'soft-smc', 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  const e = vm.cpu.run();
  assert.equal(e.reason, 'io');
  const g = gprs(vm.cpu);
  assert.equal(g.rbx, 55n, 'every patched immediate was executed');
  assert.equal(g.rsi, 2n, 'the two NOPs became INC SI');
});

test('host writes to guest RAM between runs are seen (decoded code revalidated per run)', () => {
  const vm = softVm();
  vm.ram.set([0xb0, 0x01, 0xe6, 0xe9, 0xf4], 0x1000); // mov al,1; out 0xe9; hlt
  vm.cpu.setState(realModeState(0, 0x1000, 0x8000));
  assert.deepEqual(runLogged(vm.cpu).log, [1]);
  vm.ram[0x1001] = 7;
  vm.cpu.setState({ gprs: { rip: 0x1000n } });
  assert.deepEqual(runLogged(vm.cpu).log, [7]);
});

/**
 * Runs 64-bit code (pageA at 0x10000) that calls page B at 0x11000 (mov eax, imm32; ret) and
 * OUTs to 0xe9, with blocks compiled after hot runs: 20 runs, each ended by the OUT, the host
 * rewriting B's immediate to the run's number after each. Returns the values OUT gave.
 */
function acrossRuns(hot: number, pageA: number[], hostWrites: HostWrites): number[] {
  const vm = softVm(RAM_SIZE, { hostWrites });
  softCpu(vm).hotBlockRuns = hot;
  vm.ram.set(pageA, 0x10000);
  vm.ram.set([0xb8, ...le32(0), 0xc3], 0x11000);
  vm.cpu.setState(longMode(vm, 0x10000));
  const seen: number[] = [];
  for (let n = 0; n < 20; n++) {
    seen.push(runToOutE9(vm.cpu));
    vm.ram[0x11001] = n + 1;
    if (hostWrites === 'announced') vm.m.hostWrote(0x11001, 1);
  }
  vm.hv.close();
  return seen;
}

for (const [way, hot] of [['cold blocks', Infinity], ['compiled blocks', 4]] as const) for (const hostWrites of ['unannounced', 'announced'] as const) {
  const label = `${way}, host writes ${hostWrites}`;
  test(`host writes between runs are seen through block links and the jump cache too (${label})`, () => {
    // Page A loops: CALL into page B, OUT 0xe9. Each run starts in page A after the OUT; page B
    // is reached through a link made in an earlier run, and the host has just rewritten it.
    const seen = acrossRuns(hot, [0xe8, ...le32(0x11000 - 0x10005), 0xe7, 0xe9, 0xeb, 0xf7], hostWrites); // call B; out 0xe9, eax; jmp
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, n) => n));
  });

  test(`a page the host rewrote is reached twice in one run through two links: both see the new code (${label})`, () => {
    // Page A loops: CALL B, ADD EBX, EAX twice, OUT the sum. A run's first CALL re-validates page B
    // (its block is dropped and built again); the second CALL's link, made in an earlier run, named
    // the dropped block, which must not run.
    const seen = acrossRuns(hot, [
      0x31, 0xdb, // xor ebx, ebx
      0xe8, ...le32(0x11000 - 0x10007), // call B
      0x01, 0xc3, // add ebx, eax
      0xe8, ...le32(0x11000 - 0x1000e), // call B
      0x01, 0xc3, // add ebx, eax
      0x89, 0xd8, 0xe7, 0xe9, // mov eax, ebx; out 0xe9, eax
      0xeb, 0xea, // jmp A
    ], hostWrites);
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, n) => 2 * n));
  });
}

test('MMIO: reads and writes outside RAM exit with gpa/size/write, assistMem completes them', () => {
  const vm = softVm();
  // 64-bit: mov rax, 0x7766554433221100; mov [0x500000], rax; mov ebx, [0x500010]; out 0xf4, al
  const code = [0x48, 0xb8, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00,
    0x8b, 0x1c, 0x25, 0x10, 0x00, 0x50, 0x00,
    0xe6, 0xf4];
  vm.ram.set(code, 0x10000);
  // Identity map covers 4 MiB of RAM; map 8 MiB of GPA so 0x500000 is mapped by paging but has no RAM.
  const st = longMode(vm, 0x10000);
  vm.cpu.setState(st);
  // Extend the identity map (2 MiB pages) to 8 MiB: PD entries 2 and 3.
  const cr3 = Number(st.crs!.cr3!);
  const dv = new DataView(vm.ram.buffer);
  const pd = dv.getUint32(cr3 + 0x1000, true) & ~0xfff;
  dv.setUint32(pd + 16, 0x400000 | 0x87, true);
  dv.setUint32(pd + 24, 0x600000 | 0x87, true);
  const writes: [number, number[]][] = [];
  let e = vm.cpu.run();
  assert.equal(e.reason, 'memory');
  if (e.reason !== 'memory') return;
  assert.deepEqual([e.gpa, e.write, e.size], [0x500000, true, 8]);
  assert.deepEqual(Array.from(e.instBytes), code.slice(10, 18));
  vm.cpu.assistMem(e, (req) => { writes.push([req.gpa, Array.from(req.data)]); });
  e = vm.cpu.run();
  assert.equal(e.reason, 'memory');
  if (e.reason !== 'memory') return;
  assert.deepEqual([e.gpa, e.write, e.size], [0x500010, false, 4]);
  vm.cpu.assistMem(e, (req) => { req.data.set([0xef, 0xbe, 0xad, 0xde]); });
  e = vm.cpu.run();
  assert.equal(e.reason, 'io');
  assert.deepEqual(writes, [[0x500000, [0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]]]);
  assert.equal(gprs(vm.cpu).rbx, 0xdeadbeefn);
});

test('a write to read-only RAM is a memory exit; reads are served from RAM', () => {
  const vm = softVm();
  const rom = vm.m.allocate(0x1000);
  rom.bytes[0x10] = 0x5a;
  vm.m.map(0x800000, rom, { prot: 'rx' });
  // 32-bit flat, paging off: mov al,[0x800010]; mov [0x800020],al
  vm.ram.set([0xa0, 0x10, 0x00, 0x80, 0x00, 0xa2, 0x20, 0x00, 0x80, 0x00], 0x1000);
  vm.cpu.setState({
    ...realModeState(0, 0x1000),
    crs: { cr0: 0x11n },
    segs: Object.fromEntries(['cs', 'ds', 'es', 'ss', 'fs', 'gs'].map((n) => [n, {
      selector: n === 'cs' ? 8 : 0x10, base: 0n, limit: 0xffffffff, type: n === 'cs' ? 0xb : 3, s: 1, dpl: 0, p: 1,
      avl: 0, l: 0, def: 1, g: 1,
    }])),
  });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'memory');
  if (e.reason !== 'memory') return;
  assert.deepEqual([e.gpa, e.write, e.size, e.prot], [0x800020, true, 1, 'w']);
  assert.equal(gprs(vm.cpu).rax & 0xffn, 0x5an);
  assert.equal(gprs(vm.cpu).rip, 0x1005n, 'RIP on the faulting store');
});

test('CPUID: set/del masks apply; exit leaves leave RIP on the instruction with npc', () => {
  const vm = softVm();
  vm.ram.set([0x0f, 0xa2, 0xf4, 0x0f, 0xa2, 0xf4], 0x1000); // cpuid; hlt; cpuid; hlt
  vm.cpu.setState({ ...realModeState(0, 0x1000), gprs: { rax: 1n, rip: 0x1000n } });
  vm.cpu.configureCpuid(1, { set: { ecx: 0x10 }, del: { edx: 0x1 } });
  vm.cpu.configureCpuid(0x40000000, { exit: true });
  // First CPUID: leaf 1 with the masks. Then the second asks for the exit leaf.
  let e = vm.cpu.run();
  assert.equal(e.reason, 'halted');
  let g = gprs(vm.cpu);
  assert.equal(g.rcx & 0x10n, 0x10n, 'set mask');
  assert.equal(g.rdx & 1n, 0n, 'del mask');
  vm.cpu.setState({ gprs: { ...g, rax: 0x40000000n, rip: 0x1003n } });
  e = vm.cpu.run();
  assert.equal(e.reason, 'cpuid');
  if (e.reason !== 'cpuid') return;
  assert.deepEqual([e.leaf, e.npc], [0x40000000, 0x1005n]);
  g = gprs(vm.cpu);
  assert.equal(g.rip, 0x1003n);
});

test('RDMSR/WRMSR: platform MSRs in the CPU, others exit with npc', () => {
  const vm = softVm();
  // wrmsr (ecx=0xc0000082 LSTAR); rdmsr (ecx=0x1234)
  vm.ram.set([0x0f, 0x30, 0xb9, 0x34, 0x12, 0x00, 0x00, 0x0f, 0x32, 0xf4], 0x10000);
  vm.cpu.setState({ ...longMode(vm, 0x10000), gprs: { rip: 0x10000n, rcx: 0xc0000082n, rax: 0x12345678n, rdx: 0xffffffffn, rsp: 0x80000n, rflags: 2n } });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'rdmsr');
  if (e.reason !== 'rdmsr') return;
  assert.deepEqual([e.msr, e.npc], [0x1234, 0x10009n]);
  assert.equal(vm.cpu.getState(State.MSRS).msrs!.lstar, 0xffffffff12345678n);
});

/** RDMSR or WRMSR of msr at CPL0 (EDX:EAX = value for WRMSR): whether it raised #GP, and EDX:EAX after. */
function msrOp(op: 'rdmsr' | 'wrmsr', msr: number, value = 0n): { gp: boolean; value: bigint } {
  const vm = softVm();
  vm.ram.set([0x0f, op === 'rdmsr' ? 0x32 : 0x30, 0xe6, 0xf4], 0x10000); // rdmsr/wrmsr; out 0xf4, al
  vm.ram.set([0xe6, 0xf5], 0x11000); // #GP handler: out 0xf5, al
  setGate64(vm, 0x12000, 13, 0x11000);
  const st = longMode(vm, 0x10000);
  vm.cpu.setState({ ...st, segs: { ...st.segs!, idt: { ...st.segs!.idt!, base: 0x12000n, limit: 0xfff } },
    gprs: { ...st.gprs!, rcx: BigInt(msr), rax: value & 0xffffffffn, rdx: value >> 32n } });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'io', `${op} 0x${msr.toString(16)} ends at an OUT, not ${e.reason}`);
  const g = gprs(vm.cpu);
  return { gp: e.reason === 'io' && e.port === 0xf5, value: ((g.rdx & 0xffffffffn) << 32n) | (g.rax & 0xffffffffn) };
}

test('CPUID clock leaves: max basic leaf 16H; 15H/16H not enumerated (zeros) until the VMM sets them; the monitor sets its 1 GHz TSC and LAPIC clock', () => {
  const leaf = (configure: (cpu: ReturnType<typeof softVm>['cpu']) => void, n: number) => {
    const vm = softVm();
    configure(vm.cpu);
    vm.ram.set([0x0f, 0xa2, 0xf4], 0x1000); // cpuid; hlt
    vm.cpu.setState({ ...realModeState(0, 0x1000), gprs: { rax: BigInt(n), rip: 0x1000n } });
    assert.equal(vm.cpu.run().reason, 'halted');
    const g = gprs(vm.cpu);
    return [g.rax, g.rbx, g.rcx, g.rdx];
  };
  const none = () => {};
  assert.equal(leaf(none, 0)[0], 0x16n);
  assert.deepEqual(leaf(none, 0x15), [0n, 0n, 0n, 0n], '15H: EBX = 0 says the TSC/crystal ratio is not enumerated');
  assert.deepEqual(leaf(none, 0x16), [0n, 0n, 0n, 0n]);
  assert.deepEqual(leaf(none, 0xb), [0n, 0n, 0n, 0n], 'no x2APIC topology leaf');
  // The monitor's soft machine: TSC and LAPIC timer input both 1 GHz of guest time.
  const monitor = (cpu: ReturnType<typeof softVm>['cpu']) => configureVcpuCpuid(cpu, true);
  assert.deepEqual(leaf(monitor, 0x15), [1n, 1n, BigInt(APIC_BUS_HZ), 0n], 'TSC = crystal x 1/1, crystal = the LAPIC bus');
  assert.deepEqual(leaf(monitor, 0x16), [BigInt(TSC_HZ / 1e6), BigInt(TSC_HZ / 1e6), BigInt(APIC_BUS_HZ / 1e6), 0n]);
  assert.deepEqual(leaf((cpu) => configureVcpuCpuid(cpu, false), 0x15), [0n, 0n, 0n, 0n], 'a TSC of unknown rate (KVM) is not described');
  // The ratio in lowest terms, the crystal in Hz (Linux: tsc_khz = crystal_khz * EBX / EAX).
  assert.deepEqual(tscCrystalLeaf(2_400_000_000, 100_000_000), { eax: 1, ebx: 24, ecx: 100_000_000, edx: 0 });
  assert.deepEqual(tscCrystalLeaf(1_000_000_000, 24_000_000), { eax: 3, ebx: 125, ecx: 24_000_000, edx: 0 });
});

test('speculation controls: CPUID 7 enumerates ARCH_CAPABILITIES, IBRS/IBPB and BHI_CTRL; the MSRs behave as the SDM says', () => {
  const leaf7 = (sub: number) => {
    const vm = softVm();
    vm.ram.set([0x0f, 0xa2, 0xf4], 0x1000); // cpuid; hlt
    vm.cpu.setState({ ...realModeState(0, 0x1000), gprs: { rax: 7n, rcx: BigInt(sub), rip: 0x1000n } });
    assert.equal(vm.cpu.run().reason, 'halted');
    return gprs(vm.cpu);
  };
  const l7 = leaf7(0), l72 = leaf7(2);
  assert.equal(l7.rax, 2n, 'leaf 7 has subleaves 0-2');
  assert.equal(l7.rdx, (1n << 14n) | (1n << 26n) | (1n << 29n), 'EDX: SERIALIZE, IBRS/IBPB and ARCH_CAPABILITIES, no STIBP or SSBD');
  assert.equal(l72.rdx, 1n << 4n, 'leaf 7.2 EDX: BHI_CTRL');
  assert.equal(leaf7(1).rdx | leaf7(1).rax, 0n);

  // ARCH_CAPABILITIES: every "not affected" bit a Linux guest checks, none that says it is affected.
  const caps = msrOp('rdmsr', 0x10a);
  assert.equal(caps.gp, false);
  assert.equal(caps.value, (BigInt(ARCH_CAPABILITIES[1]) << 32n) | BigInt(ARCH_CAPABILITIES[0]));
  const NOT_AFFECTED = [0, 1, 4, 5, 6, 8, 13, 14, 15, 20, 24, 26, 27, 62];
  assert.equal(caps.value, NOT_AFFECTED.reduce((v, b) => v | (1n << BigInt(b)), 0n), 'RDCL_NO IBRS_ALL SSB_NO MDS_NO PSCHANGE_MC_NO TAA_NO SBDR_SSDP_NO FBSDP_NO PSDP_NO BHI_NO PBRSB_NO GDS_NO RFDS_NO ITS_NO');
  assert.equal(msrOp('wrmsr', 0x10a, 0n).gp, true, 'ARCH_CAPABILITIES is read-only');

  // SPEC_CTRL: IBRS and BHI_DIS_S are kept (read back by the same vCPU: one run does both), others #GP.
  assert.equal(msrOp('wrmsr', 0x48, 1n | (1n << 10n)).gp, false);
  for (const bad of [2n, 4n, 1n << 32n]) assert.equal(msrOp('wrmsr', 0x48, bad).gp, true, `SPEC_CTRL 0x${bad.toString(16)} is reserved`);
  const vm = softVm();
  vm.ram.set([0x0f, 0x30, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x32, 0xf4], 0x10000); // wrmsr; xor eax,eax; xor edx,edx; rdmsr; hlt
  vm.cpu.setState({ ...longMode(vm, 0x10000), gprs: { rip: 0x10000n, rcx: 0x48n, rax: 0x401n, rdx: 0n, rsp: 0x80000n, rflags: 2n } });
  assert.equal(vm.cpu.run().reason, 'halted');
  assert.equal(gprs(vm.cpu).rax, 0x401n, 'SPEC_CTRL reads back what was written');

  // PRED_CMD: IBPB writes are accepted; the MSR is write-only.
  assert.equal(msrOp('wrmsr', 0x49, 1n).gp, false);
  assert.equal(msrOp('wrmsr', 0x49, 2n).gp, true);
  assert.equal(msrOp('rdmsr', 0x49).gp, true, 'PRED_CMD is write-only');
});

test('CR8 writes exit as tpr-changed when configured', () => {
  const vm = softVm();
  // mov rax, 5; mov cr8, rax; hlt
  vm.ram.set([0x48, 0xc7, 0xc0, 0x05, 0x00, 0x00, 0x00, 0x44, 0x0f, 0x22, 0xc0, 0xf4], 0x10000);
  vm.cpu.setState(longMode(vm, 0x10000));
  vm.cpu.configureTpr({ exitChanged: true });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'tpr-changed');
  if (e.reason !== 'tpr-changed') return;
  assert.equal(e.cr8, 5n);
  assert.equal(gprs(vm.cpu).rip, 0x1000bn, 'after the MOV');
});

test('an unimplemented instruction is an invalid exit naming it, never a silent skip', () => {
  const vm = softVm();
  // jmp far [rip+0] to selector 0x40, a 64-bit call gate (call gates are not implemented).
  vm.ram.set([0x48, 0xff, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00], 0x10000);
  const st = longMode(vm, 0x10000);
  const gdt = Number(st.segs!.gdt!.base);
  const gate = new DataView(vm.ram.buffer, gdt + 0x40, 16);
  gate.setUint32(0, (0x08 << 16) | 0x2000, true); // offset 15:0, selector: kernel code
  gate.setUint32(4, 0x8c00 | (0x0001 << 16), true); // present, DPL 0, type 0xC (call gate); offset 31:16
  vm.cpu.setState({ ...st, segs: { ...st.segs, gdt: { ...st.segs!.gdt!, limit: 0x4f } } });
  const e = vm.cpu.run();
  assert.equal(e.reason, 'invalid');
  if (e.reason !== 'invalid') return;
  assert.match(e.detail, /call gate/);
  assert.equal(gprs(vm.cpu).rip, 0x10000n);
});

test('getState/setState round trip of every group', () => {
  const vm = softVm();
  const st = longMode(vm, 0x10000);
  vm.cpu.setState(st);
  const all = vm.cpu.getState(State.ALL);
  const again = softVm();
  again.cpu.setState(all);
  const back = again.cpu.getState(State.ALL);
  assert.deepEqual({ ...back, msrs: { ...back.msrs, tsc: 0n } }, { ...all, msrs: { ...all.msrs, tsc: 0n } });
  assert.equal(all.segs!.cs.l, 1);
  assert.equal(all.crs!.cr3, st.crs!.cr3);
});

test('LAR/LSL/VERW and the MXCSR/FXSAVE/FXRSTOR group give the architectural values', () => {
  const vm = softVm();
  load(vm, 'soft-probes', 0x10000);
  vm.cpu.setState(longMode(vm, 0x10000));
  const { log, end } = runLogged(vm.cpu);
  assert.equal(end.reason, 'io');
  assert.deepEqual(log, [
    0x00a09b00, // LAR 0x08: P, DPL 0, code execute/read accessed, G, L
    0xffffffff, // LSL 0x10: 4 GiB flat limit
    1, 0,       // VERW: data writable, code not
    0x1f80,     // MXCSR at reset
    0x1fa0,     // after LDMXCSR
    0x1f80,     // restored by FXRSTOR
    0x37f,      // FCW in the FXSAVE image
  ]);
});

test('SERIALIZE changes nothing but RIP; #UD where CPUID hides it, and in its prefixed encodings', () => {
  const vm = softVm();
  vm.ram.set([0x0f, 0x01, 0xe8, 0xe6, 0xf4], 0x10000); // serialize; out 0xf4, al
  const start = { ...longMode(vm, 0x10000), gprs: { rip: 0x10000n, rsp: 0x80000n, rax: 0x1234n, rflags: 0x8d7n } };
  vm.cpu.setState(start);
  const before = gprs(vm.cpu);
  assert.equal(vm.cpu.run().reason, 'io');
  assert.deepEqual(gprs(vm.cpu), { ...before, rip: 0x10003n }, 'registers and flags as they were (RIP at the OUT)');
  // F2 (XSUSLDTRK) and 66 forms are not offered: #UD, with no IDT a shutdown at the instruction.
  for (const prefix of [0xf2, 0x66]) {
    vm.ram.set([prefix, 0x0f, 0x01, 0xe8, 0xe6, 0xf4], 0x10000);
    vm.cpu.setState(start);
    assert.equal(vm.cpu.run().reason, 'shutdown', `prefix 0x${prefix.toString(16)}`);
    assert.equal(gprs(vm.cpu).rip, 0x10000n);
  }
  // The VMM hides it (CPUID.7:EDX.SERIALIZE = 0): #UD, as on a CPU without it.
  vm.ram.set([0x0f, 0x01, 0xe8, 0xe6, 0xf4], 0x10000);
  vm.cpu.configureCpuid(7, { del: { edx: 1 << 14 } });
  vm.cpu.setState(start);
  assert.equal(vm.cpu.run().reason, 'shutdown');
  assert.equal(gprs(vm.cpu).rip, 0x10000n);
});

test('WRFSBASE/RDFSBASE with CR4.FSGSBASE; #UD without it', () => {
  const vm = softVm();
  vm.ram.set([
    0x0f, 0x20, 0xe0, 0x48, 0x0d, 0x00, 0x00, 0x01, 0x00, 0x0f, 0x22, 0xe0, // rax = cr4 | FSGSBASE; cr4 = rax
    0x48, 0xb8, 0x00, 0x10, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00,             // mov rax, 0x12341000
    0xf3, 0x48, 0x0f, 0xae, 0xd0,                                           // wrfsbase rax
    0xf3, 0x48, 0x0f, 0xae, 0xc3,                                           // rdfsbase rbx
    0xe6, 0xf4,
  ], 0x10000);
  vm.cpu.setState(longMode(vm, 0x10000));
  assert.equal(vm.cpu.run().reason, 'io');
  assert.equal(gprs(vm.cpu).rbx, 0x12341000n);
  assert.equal(vm.cpu.getState(State.SEGS).segs!.fs.base, 0x12341000n);
  // Without CR4.FSGSBASE: #UD, and with no IDT a shutdown at the WRFSBASE.
  vm.cpu.setState({ ...longMode(vm, 0x10000), gprs: { rip: 0x10016n, rsp: 0x80000n, rflags: 2n } });
  assert.equal(vm.cpu.run().reason, 'shutdown');
  assert.equal(gprs(vm.cpu).rip, 0x10016n);
});
