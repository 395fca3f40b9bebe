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
  ];
  const got = forms(covered);
  covered.forEach((h, k) => assert.notEqual(got[k], 0, `${insn(h).mnemonic} [${h}] has no record`));
});

test('cold records: other shapes and modes are left to the closures', () => {
  const left = [
    '4811d8', '4819d8', // adc, sbb (they read CF)
    '88d8', '8a4308', // byte moves between registers and byte loads
    '66894308', // 16-bit store
    '67488b4308', // 32-bit address
    'f0480143 08'.replace(' ', ''), // lock add [rbx+8], rax
    '0fa2', // cpuid
    'c1e000', // shl eax, 0 (count 0: flags unchanged, the closure's case)
  ];
  const got = forms(left);
  left.forEach((h, k) => assert.equal(got[k], 0, `${insn(h).mnemonic} [${h}] got a record`));
  assert.equal(encodeBlock([insn('89d8', 32), insn('01d8', 32)]), undefined, '32-bit code has no records');
});
