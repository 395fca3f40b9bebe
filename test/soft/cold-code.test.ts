/**
 * The cold records (src/backends/soft/cold-code.ts) must cover the shapes they are for, and
 * leave the others to the closures: a record form that silently stopped being encoded would
 * pass every differential test (the closures do the same work) and only cost speed. What the
 * records do is checked against the interpreter by the block diff fuzz (block-diff-fuzz.test.ts)
 * and the guests run cold (RUN_WAYS in vm.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { encodeBlock, encoded, W } from '../../src/backends/soft/cold-code.js';
import { State } from '../../src/index.js';
import { le32 } from '../support.js';
import { longMode, RUN_WAYS, softCpu, softVm, type SoftVm } from './vm.js';

/** Where the run tests put their code and data. */
const CODE = 0x100000, DATA = 0x200000;

const insn = (hex: string, mode: 16 | 32 | 64 = 64) => decode(Uint8Array.from(Buffer.from(hex.padEnd(30, '0'), 'hex')), mode, 0);

/** The record form each instruction got (0: its closure runs it). */
function forms(hexes: string[], mode: 16 | 32 | 64 = 64): number[] {
  const code = encodeBlock(hexes.map((h) => insn(h, mode)));
  if (code === undefined) return hexes.map(() => 0);
  return hexes.map((_, k) => code[encoded.at + k * W]!);
}

test('cold records: the commonest 64-bit shapes get records', () => {
  const covered = [
    '0f1f440000', // nop dword [rax+rax]
    '4889d8', '89d8', // mov rax, rbx; mov eax, ebx
    '488b4308', '8b4308', '488b0510000000', // mov rax, [rbx+8]; mov eax, [rbx+8]; mov rax, [rip+16]
    '48894308', '894308', '488904cb', // mov [rbx+8], rax; mov [rbx+8], eax; mov [rbx+rcx*8], rax
    '48b88877665544332211', 'b878563412', // mov rax, imm64; mov eax, imm32
    '4801d8', '29d8', '4839d8', '31c0', '4821d8', '09d8', // add sub cmp xor and or, registers
    '4883c008', '81e9ff000000', '483d00100000', // add rax, 8; sub ecx, 255; cmp rax, 0x1000
    '48034308', '2b4308', '483b4308', // add/sub/cmp with a memory source
    '4885c0', '85c0', // test rax, rax; test eax, eax
    '7405', '0f8500010000', 'eb10', 'e900010000', 'e800010000', 'c3', // jz, jnz rel32, jmp, call, ret
    '50', '4157', '5b', '415f', // push rax; push r15; pop rbx; pop r15
    '488d4308', '8d04cb', // lea rax, [rbx+8]; lea eax, [rbx+rcx*8]
    '48c1e004', 'c1e81f', '48d1e8', // shl rax, 4; shr eax, 31; shr rax, 1
    '0fb64308', '0fb6c4', '480fbfc3', '0fb7c3', // movzx eax, byte [rbx+8]; movzx eax, ah; movsx rax, bx; movzx eax, bx
    '4863c3', '48634308', // movsxd rax, ebx; movsxd rax, [rbx+8]
    '48c74308ffffffff', 'c74308 01000000'.replace(' ', ''), '48c7c001000000', // mov qword/dword [rbx+8], imm; mov rax, imm32
    '3c05', 'a801', '38d8', '3a4308', '84e0', '4084f0', // cmp al, 5; test al, 1; cmp al, bl; cmp al, [rbx+8]; test al, ah; test al, sil
    '807b0805', 'f6c301', 'f6430801', '884308', 'c6430801', // cmp byte [rbx+8], 5; test bl, 1; test byte [rbx+8], 1; byte stores
    '48837b0800', '394308', '48014308', '83430801', '29430c', // cmp qword [rbx+8], 0; cmp [rbx+8], eax; add/add/sub to memory
    'a900010000', '48f7c300010000', 'f7430800010000', '48854308', // test eax/rbx/[rbx+8], imm; test [rbx+8], rax
    '0f94c0', '0f95c4', '410f92c1', '0f44c1', '480f43c1', // sete al; setne ah; setb r9b; cmove eax, ecx; cmovae rax, rcx
    '0fc8', '490fcf', 'f7d0', '48f7d3', // bswap eax; bswap r15; not eax; not rbx
    'ffc0', '48ffcb', 'ff4308', '48ff4b08', // inc eax; dec rbx; inc dword [rbx+8]; dec qword [rbx+8]
    'd3e0', '48d3e8', '49d3d0', // shl eax, cl; shr rax, cl; rcl r8, cl
    '0fafc3', '4c0fafc3', '6bc30a', '4869c300010000', // imul eax, ebx; imul r8, rbx; imul eax, ebx, 10; imul rax, rbx, 0x100
    '66894308', '6644894308', '8a4308', '8a6308', '448a4308', // mov [rbx+8], ax; mov [rbx+8], r8w; mov al/ah/r8b, [rbx+8]
    'ffd0', '41ffd3', // call rax; call r11
    '65ff042500000000', '6501042500000000', '65488b042510000000', // inc dword gs:[0]; add gs:[0], eax; mov rax, gs:[0x10]
    '6548014308', '65ff0510000000', // add gs:[rbx+8], rax; inc dword gs:[rip+16]
  ];
  const got = forms(covered);
  covered.forEach((h, k) => assert.notEqual(got[k], 0, `${insn(h).mnemonic} [${h}] has no record`));
});

test('cold records: other shapes and modes are left to the closures', () => {
  const left = [
    '4811d8', '4819d8', // adc, sbb (they read CF)
    '88d8', // a byte move between registers
    '67488b4308', // 32-bit address
    'f0480143 08'.replace(' ', ''), // lock add [rbx+8], rax
    '0fa2', // cpuid
    'c1e000', // shl eax, 0 (count 0: flags unchanged, the closure's case)
    '65ff04d500000000', // inc dword gs:[rdx*8] (an index)
    '480144cb08', '66014308', // add [rbx+rcx*8+8], rax (index); 16-bit add to memory
    '0f944308', '0f444308', '660fc8', // sete [rbx+8]; cmove eax, [rbx+8]; bswap with 66
    '66d3e0', 'd36308', // shl ax, cl; shl dword [rbx+8], cl
    '6689d8', '8ac3', // mov ax, bx (a 16-bit register write); mov al, bl
    'ff5308', // call [rbx+8]
    '0faf4308', '6b43080a', '660fafc3', // imul eax, [rbx+8]; imul eax, [rbx+8], 10; imul ax, bx
  ];
  const got = forms(left);
  left.forEach((h, k) => assert.equal(got[k], 0, `${insn(h).mnemonic} [${h}] got a record`));
  assert.equal(encodeBlock([insn('89d8', 32), insn('01d8', 32)]), undefined, '32-bit code has no records');
});

/**
 * Runs a case once in each of RUN_WAYS on a fresh VM (compiled blocks compiled at their first run)
 * and returns what run said, per way.
 */
function everyWay<T>(run: (vm: SoftVm, label: string) => T): T[] {
  return RUN_WAYS.map(([label, hot, interpretOnly]) => {
    const vm = softVm();
    try {
      const cpu = softCpu(vm);
      cpu.interpretOnly = interpretOnly;
      cpu.hotBlockRuns = label === 'compiled blocks' ? 1 : hot;
      return run(vm, label);
    } finally {
      vm.hv.close();
    }
  });
}

/**
 * The int32-halves paths (the records' pairOffset and pushPair/popPair/retPair, the compiled
 * blocks' operand() and push64/pop64 text) at their edges, run cold, compiled and one instruction
 * at a time: they must leave the same exit, registers and CR2 as the interpreter wherever they
 * hand over (a low half that would carry, a non-canonical return address, POP RSP, RIP-relative
 * and index operands).
 */
test('cold records and compiled blocks: stack and memory edges end exactly as one instruction at a time does', () => {
  const cases: { name: string; code: number[]; regs: Record<string, bigint>; stack?: bigint }[] = [
    // push rax; pop rbx; hlt with RSP's low half 0: the push borrows into the high half (unmapped: #PF there).
    { name: 'push across a 4 GiB boundary', code: [0x50, 0x5b, 0xf4], regs: { rsp: 0x1_0000_0000n, rax: 7n } },
    // ret to a non-canonical address: #GP with RSP unchanged.
    { name: 'ret to a non-canonical address', code: [0xc3], regs: { rsp: 0x80000n }, stack: 0x0000_8000_0000_0000n },
    // pop rsp; hlt: RSP ends as the popped value.
    { name: 'pop rsp', code: [0x5c, 0xf4], regs: { rsp: 0x80000n }, stack: 0x7_1234n },
    // mov rax, [rip + 0x100000 - 7]; mov [rbx + rcx*8 + 8], rax; mov rdx, [rbx + 8 + 8*3]; hlt
    { name: 'rip-relative and indexed operands', code: [0x48, 0x8b, 0x05, 0xf9, 0xff, 0x0f, 0x00, 0x48, 0x89, 0x44, 0xcb, 0x08, 0x48, 0x8b, 0x53, 0x20, 0xf4], regs: { rbx: BigInt(DATA), rcx: 3n } },
    // mov rax, [rbx - 8] with rbx = 4: the low half borrows, to 0xffff_ffff_ffff_fffc (unmapped: #PF there).
    { name: 'displacement borrowing into the high half', code: [0x48, 0x8b, 0x43, 0xf8, 0xf4], regs: { rbx: 4n } },
    // cmp rax, rax (ZF = 1); add dword [rbx+8], 1 with rbx unmapped: #PF, the flags still cmp's.
    { name: 'memory destination faulting', code: [0x48, 0x39, 0xc0, 0x83, 0x43, 0x08, 0x01, 0xf4], regs: { rbx: 0xdead_0000n } },
    // cmp rax, rax; add [rbx-8], eax with rbx = 4: the address borrows into the high half (#PF there), flags kept.
    { name: 'memory destination borrowing into the high half', code: [0x48, 0x39, 0xc0, 0x01, 0x43, 0xf8, 0xf4], regs: { rbx: 4n } },
    // call +0; pop rax; ret with a return address pushed below it: ends at the pushed 0x100000 + 6 (hlt).
    { name: 'call, pop, push and ret', code: [0xe8, 0x00, 0x00, 0x00, 0x00, 0x58, 0x48, 0x83, 0xc0, 0x07, 0x50, 0xc3, 0xf4], regs: {} },
  ];
  for (const c of cases) {
    const got = everyWay((vm, label) => {
      vm.ram.set(c.code, CODE);
      vm.ram.set(Array.from({ length: 64 }, (_, k) => k + 1), DATA);
      if (c.stack !== undefined) new DataView(vm.ram.buffer).setBigUint64(0x80000, c.stack, true);
      const s = longMode(vm, CODE);
      vm.cpu.setState({ ...s, gprs: { ...s.gprs!, ...c.regs } });
      const e = vm.cpu.run();
      const st = vm.cpu.getState(State.GPRS | State.CRS);
      return { label, out: JSON.stringify({ reason: e.reason, gprs: st.gprs, cr2: st.crs!.cr2 }, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v)) };
    });
    const ref = got.find((g) => g.label === 'one instruction at a time')!;
    for (const g of got) assert.equal(g.out, ref.out, `${c.name}: ${g.label} vs ${ref.label}`);
  }
});

/**
 * Straight-line code whose last instruction ends at 4 GiB: RIP's low half carries into the high
 * half (cold records step RIP per instruction, compiled blocks at the end), and the fetch at
 * 0x1_0000_0000 (not mapped) faults there. Without the carry RIP would wrap to 0, mapped code.
 */
test('cold records and compiled blocks: RIP carries into its high half at the end of code below 4 GiB', () => {
  const TABLES_OFF = 0x10000; // longMode's tables sit at the top of RAM
  const PD = 0x300000, CODE_PHYS = 0x1ffff8; // linear 0xffe00000.. (PD[511], a 2 MiB page) -> physical 0
  const got = everyWay((vm, label) => {
    const s = longMode(vm, 0xfffffff8);
    const dv = new DataView(vm.ram.buffer, vm.ram.byteOffset);
    const pdpt = vm.ram.length - TABLES_OFF + 0x1000;
    dv.setUint32(pdpt + 3 * 8, PD | 0x3, true);
    dv.setUint32(PD + 511 * 8, 0x0 | 0x83, true);
    // mov eax, 1; add eax, 2: 8 bytes ending at 0x1_0000_0000.
    vm.ram.set([0xb8, 0x01, 0x00, 0x00, 0x00, 0x83, 0xc0, 0x02], CODE_PHYS);
    vm.ram.set([0xf4], 0); // what a wrapped RIP would run: hlt
    vm.cpu.setState(s);
    const e = vm.cpu.run();
    const st = vm.cpu.getState(State.GPRS | State.CRS);
    return { label, reason: e.reason, rip: st.gprs!.rip, rax: st.gprs!.rax, cr2: st.crs!.cr2 };
  });
  const ref = got.find((g) => g.label === 'one instruction at a time')!;
  assert.equal(ref.cr2, 0x1_0000_0000n, `the fetch at 4 GiB faults there: ${JSON.stringify(ref, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  assert.equal(ref.rax, 3n);
  for (const g of got) assert.deepEqual(g, { ...ref, label: g.label }, `${g.label} vs one instruction at a time`);
});

/**
 * Runs code at CODE in each of RUN_WAYS from longMode's state with gprs over it (FS and GS at
 * bases, prepare's changes to the VM after), 128 bytes of patterned data at DATA, to its first
 * exit; asserts that every way ends
 * with the exit, registers, CR2 and data that one instruction at a time does, and returns that
 * reference as a string (for what the test checks the run reached).
 */
function sameEveryWay(code: number[], gprs: Record<string, bigint>, bases: { fs?: bigint; gs?: bigint } = {}, prepare?: (vm: SoftVm) => void): string {
  const got = everyWay((vm, label) => {
    vm.ram.set(code, CODE);
    vm.ram.set(Array.from({ length: 128 }, (_, k) => (k * 37 + 11) & 0xff), DATA);
    const s = longMode(vm, CODE);
    prepare?.(vm);
    const segs = s.segs!;
    vm.cpu.setState({
      ...s,
      gprs: { ...s.gprs!, ...gprs },
      segs: { ...segs, fs: { ...segs.fs!, base: bases.fs ?? segs.fs!.base }, gs: { ...segs.gs!, base: bases.gs ?? segs.gs!.base } },
    });
    const e = vm.cpu.run();
    const st = vm.cpu.getState(State.GPRS | State.CRS);
    const out = JSON.stringify({ reason: e.reason, gprs: st.gprs, cr2: st.crs!.cr2 }, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v));
    return { label, out, data: Buffer.from(vm.ram.subarray(DATA, DATA + 128)).toString('hex') };
  });
  const ref = got.find((g) => g.label === 'one instruction at a time')!;
  for (const g of got) assert.deepEqual(g, { ...ref, label: g.label }, `${g.label} vs one instruction at a time`);
  return ref.out;
}

/**
 * The records of the forms past plain moves and register ALU rows (memory destinations, TEST,
 * SETcc, CMOVcc, BSWAP, NOT, INC/DEC), run cold, compiled and one instruction at a time: the
 * same registers, flags and memory, including the operands the records leave to the closures
 * (FS-based, indexed) and a destination that is not mapped (#PF, the flags left as they were).
 */
test('cold records: memory destinations, TEST, SETcc, CMOVcc, BSWAP, NOT and INC/DEC end as one instruction at a time does', () => {
  const code = [
    0x48, 0x01, 0x43, 0x08, // add [rbx+8], rax
    0x83, 0x6b, 0x10, 0x05, // sub dword [rbx+16], 5
    0x48, 0x83, 0x63, 0x18, 0x0f, // and qword [rbx+24], 15
    0x48, 0x31, 0x4b, 0x20, // xor [rbx+32], rcx
    0xff, 0x43, 0x28, // inc dword [rbx+40]
    0x48, 0xff, 0x4b, 0x30, // dec qword [rbx+48]
    0x48, 0x83, 0x7b, 0x08, 0x00, 0x0f, 0x94, 0xc2, // cmp qword [rbx+8], 0; sete dl
    0x39, 0x4b, 0x10, 0x0f, 0x92, 0xc6, // cmp [rbx+16], ecx; setb dh
    0x48, 0xf7, 0x43, 0x18, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x45, 0xf1, // test qword [rbx+24], 1; cmovne esi, ecx
    0x48, 0x85, 0x4b, 0x20, 0x48, 0x0f, 0x44, 0xf9, // test [rbx+32], rcx; cmove rdi, rcx
    0xa9, 0x00, 0x00, 0x00, 0x80, 0x41, 0x0f, 0x98, 0xc0, // test eax, 0x80000000; sets r8b
    0x49, 0x0f, 0xc9, 0x0f, 0xc8, 0x49, 0xf7, 0xd2, 0x41, 0xf7, 0xd4, // bswap r9; bswap eax; not r10; not r12d
    0x49, 0xff, 0xc3, 0xff, 0xca, // inc r11; dec edx
    0x39, 0xc0, 0x44, 0x0f, 0x45, 0xe9, // cmp eax, eax; cmovne r13d, ecx (false: r13's high half cleared all the same)
    0x64, 0x48, 0x01, 0x04, 0x25, 0x38, 0x00, 0x00, 0x00, // add fs:[0x38], rax (FS base = DATA)
    0x48, 0x01, 0x44, 0xcb, 0x08, // add [rbx+rcx*8+8], rax (index)
    0x83, 0x45, 0x00, 0x01, // add dword [rbp], 1 with rbp not mapped: #PF
    0xf4,
  ];
  const out = sameEveryWay(code, {
    rax: 0xfedc_ba98_7654_3210n, rbx: BigInt(DATA), rcx: 3n, rdx: 0x1234n, rsi: 0x5555n, rdi: 0x6666n, r9: 0x0102_0304_0506_0708n, r10: 0x1111n, r11: 0xffff_ffffn, r12: 0x8000_0000_0000_00f0n, r13: 0xaaaa_bbbb_cccc_ddddn, rbp: 0x0deadn << 12n,
  }, { fs: BigInt(DATA) });
  assert.match(out, /"cr2":"dead000"/, `ends at the #PF of the last write: ${out}`);
});

/**
 * Shifts by CL and IMUL between registers, run cold, compiled and one instruction at a time: the
 * same registers and flags, CL 0 (flags kept: the closure's case) and counts that need masking
 * among them, RCL/RCR reading CF, and products that overflow and do not.
 */
test('cold records: shifts by CL and register IMUL end as one instruction at a time does', () => {
  const pushfPop = (reg: number): number[] => [0x9c, 0x41, 0x58 + reg]; // pushf; pop r8+reg
  const code = [
    0xd3, 0xe0, ...pushfPop(0), // shl eax, cl (cl = 5)
    0x48, 0xd3, 0xeb, ...pushfPop(1), // shr rbx, cl
    0xb1, 0x00, 0xf9, 0xd3, 0xe2, ...pushfPop(2), // mov cl, 0; stc; shl edx, cl (count 0: the flags, CF set, kept)
    0xb1, 0x41, 0x48, 0xd3, 0xfe, ...pushfPop(3), // mov cl, 0x41; sar rsi, cl (masked to 1)
    0xb1, 0x21, 0xf9, 0xd3, 0xd7, ...pushfPop(4), // mov cl, 0x21; stc; rcl edi, cl (masked to 1)
    0xb1, 0x3f, 0x48, 0xd3, 0xcd, ...pushfPop(5), // mov cl, 63; ror rbp, cl
    0x0f, 0xaf, 0xc3, // imul eax, ebx
    0x4c, 0x0f, 0xaf, 0xcb, ...pushfPop(6), // imul r9, rbx (overflows)
    0x6b, 0xd6, 0xfd, // imul edx, esi, -3
    0x48, 0x69, 0xff, 0x00, 0x00, 0x01, 0x00, ...pushfPop(7), // imul rdi, rdi, 0x10000
    0xf4,
  ];
  const out = sameEveryWay(code, {
    rax: 0x8765_4321_8765_4321n, rbx: 0xfedc_ba98_7654_3210n, rcx: 5n, rdx: 0xffff_ffff_8000_0001n, rsi: 0x8000_0000_0000_0003n, rdi: 0x4000_0001n, rbp: 0x1234_5678_9abc_def1n, r9: 0x7fff_ffff_ffffn,
  });
  assert.match(out, /"reason":"halted"/);
});

/**
 * 16-bit stores and byte loads into byte registers (AL, AH, a REX byte register), run cold,
 * compiled and one instruction at a time: the same registers (the rest of each register kept)
 * and memory, and a store to a page that is not mapped ends at the same #PF.
 */
test('cold records: 16-bit stores and byte loads end as one instruction at a time does', () => {
  const code = [
    0x66, 0x89, 0x43, 0x08, // mov [rbx+8], ax
    0x66, 0x44, 0x89, 0x4b, 0x11, // mov [rbx+17], r9w (unaligned)
    0x8a, 0x4b, 0x20, // mov cl, [rbx+32]
    0x8a, 0x73, 0x21, // mov dh, [rbx+33]
    0x44, 0x8a, 0x43, 0x22, // mov r8b, [rbx+34]
    0x40, 0x8a, 0x7b, 0x23, // mov dil, [rbx+35]
    0x66, 0x89, 0x45, 0x00, // mov [rbp], ax with rbp not mapped: #PF
    0xf4,
  ];
  const out = sameEveryWay(code, {
    rax: 0x1122_3344_5566_7788n, rbx: BigInt(DATA), rcx: 0xffff_ffff_ffff_ffffn, rdx: 0x0123_4567_89ab_cdefn, rdi: 0xaaaa_aaaa_aaaa_aaaan, r8: 0x5555_5555_5555_5555n, r9: 0x0bad_f00dn, rbp: 0x0deadn << 12n,
  });
  assert.match(out, /"cr2":"dead000"/, `ends at the #PF of the last store: ${out}`);
});

/**
 * CALL through a register, run cold, compiled and one instruction at a time: a call and its
 * return, then a call to a non-canonical address, which must fault (#GP, here a shutdown: no IDT)
 * with RSP and RIP as they were.
 */
test('cold records: CALL through a register ends as one instruction at a time does', () => {
  const code = [
    0x48, 0x8d, 0x05, 0x0a, 0x00, 0x00, 0x00, // lea rax, [rip+10] (the function at +0x11)
    0xff, 0xd0, // call rax
    0x41, 0xff, 0xd3, // call r11 (not canonical: #GP)
    0xf4, 0xf4, 0xf4, 0xf4, 0xf4, // hlt (not reached)
    0xbb, 0x2a, 0x00, 0x00, 0x00, // mov ebx, 42
    0xc3, // ret
  ];
  const out = sameEveryWay(code, { r11: 0x0000_8000_0000_0000n });
  assert.match(out, /"reason":"shutdown".*"rbx":"2a"/, `the call and return ran, the second call faulted: ${out}`);
});

/**
 * FS- and GS-relative operands (Linux's per-CPU data) through the records' pair probe, run cold,
 * compiled and one instruction at a time: INC/DEC, ALU and moves through GS with a displacement
 * alone, a base register and RIP (`incl %gs:var(%rip)`, what Linux 6.1 emits most); a load and a
 * store through FS based in the upper half (PML4 slot 256 maps what slot 0 does), the store past
 * the RAM mapped there (#PF at the same address every way). The low pages the displacements
 * alone name are touched first, so an access that lost its segment base would hit the TLB there
 * rather than miss and be put right by read()/write().
 */
test('cold records: FS- and GS-relative operands end as one instruction at a time does', () => {
  const KERNEL_HALF = 0xffff_8000_0000_0000n, GS = DATA + 0x40;
  const code: number[] = [];
  /** An instruction whose last 4 bytes are a RIP-relative displacement to GS-relative address at. */
  const ripRelative = (bytes: number[], at: number): void => {
    const end = CODE + code.length + bytes.length + 4;
    code.push(...bytes, ...le32(at - GS - end));
  };
  code.push(
    0x4c, 0x8b, 0x14, 0x25, 0x08, 0x00, 0x00, 0x00, // mov r10, [8]
    0x4c, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x30, 0x00, // mov r11, [0x300000]
    0x65, 0xff, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00, // inc dword gs:[8]
    0x65, 0x48, 0xff, 0x0c, 0x25, 0x10, 0x00, 0x00, 0x00, // dec qword gs:[0x10]
    0x65, 0x48, 0x01, 0x04, 0x25, 0x18, 0x00, 0x00, 0x00, // add gs:[0x18], rax
    0x65, 0x83, 0x2c, 0x25, 0x20, 0x00, 0x00, 0x00, 0x07, // sub dword gs:[0x20], 7
    0x65, 0x48, 0x8b, 0x1c, 0x25, 0x28, 0x00, 0x00, 0x00, // mov rbx, gs:[0x28]
    0x65, 0x48, 0x89, 0x0c, 0x25, 0x30, 0x00, 0x00, 0x00, // mov gs:[0x30], rcx
    0x65, 0x48, 0x8b, 0x77, 0x08, // mov rsi, gs:[rdi+8]
    0x65, 0x48, 0x01, 0x47, 0x10, // add gs:[rdi+0x10], rax
    0x65, 0x3b, 0x14, 0x25, 0xfc, 0xff, 0xff, 0xff, // cmp edx, gs:[-4]
    0x0f, 0x92, 0xc2, // setb dl
  );
  ripRelative([0x65, 0xff, 0x05], DATA + 0x08); // inc dword gs:[rip+...] (DATA + 8)
  ripRelative([0x65, 0xff, 0x0d], DATA + 0x0c); // dec dword gs:[rip+...]
  ripRelative([0x65, 0x48, 0x8b, 0x2d], DATA + 0x10); // mov rbp, gs:[rip+...]
  ripRelative([0x65, 0x4c, 0x89, 0x25], DATA + 0x18); // mov gs:[rip+...], r12
  code.push(
    0x64, 0x4c, 0x03, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00, // add r8, fs:[0x10]
    0x64, 0x89, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00, // mov fs:[0x300000], eax: past the upper half's RAM, #PF
    0xf4,
  );
  const out = sameEveryWay(code, { rax: 0x0123_4567_89ab_cdefn, rcx: 0xfeed_face_cafe_beefn, rdx: 0x8000_0000n, rdi: 0x20n, r8: 5n, r12: 0x7777n }, {
    gs: BigInt(GS), fs: KERNEL_HALF + BigInt(DATA),
  }, (vm) => {
    const tables = vm.ram.length - 0x10000, view = new DataView(vm.ram.buffer, vm.ram.byteOffset);
    view.setBigUint64(tables + 256 * 8, view.getBigUint64(tables, true), true);
  });
  assert.match(out, /"cr2":"ffff800000500000"/, `ends at the #PF of the FS store: ${out}`);
});
