/**
 * Table-driven decoder cases: known encodings and the fields they must decode to
 * (lengths, operand sizes, registers, memory operands, immediates and their extension, prefixes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import type { CodeMode, Instruction, MemoryOperand, Operand } from '../../src/x86/instruction.js';
import { REG_NONE, REG_RIP, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from '../../src/x86/instruction.js';
import { hexBytes } from './helpers.js';

const r = (reg: number, size: 1 | 2 | 4 | 8, high = false): Operand => ({ kind: 'reg', reg, size, high });
const m = (size: number): Operand => ({ kind: 'mem', size });
const i = (size: number): Operand => ({ kind: 'imm', size });
const rel = (size: number): Operand => ({ kind: 'rel', size });
const mem = (base: number, index: number, scale: 1 | 2 | 4 | 8, disp: number, seg = SEG_DS): MemoryOperand =>
  ({ seg, base, index, scale, disp });
const N = REG_NONE;

type Case = [CodeMode, string, Partial<Instruction>];

const CASES: Case[] = [
  // Register forms, operand sizes, byte registers with and without REX.
  [64, '48 89 c3', { length: 3, mnemonic: 'mov', opSize: 8, mod: 3, reg: 0, rm: 3, operands: [r(3, 8), r(0, 8)], mem: null }],
  [64, '89 c3', { length: 2, opSize: 4, operands: [r(3, 4), r(0, 4)] }],
  [64, '66 89 c3', { length: 3, opSize: 2, opsizePrefix: true, operands: [r(3, 2), r(0, 2)] }],
  [64, '88 e0', { opSize: 1, operands: [r(0, 1), r(0, 1, true)] }],
  [64, '40 88 e0', { rex: 0x40, operands: [r(0, 1), r(4, 1)] }],
  [64, '45 88 c1', { operands: [r(9, 1), r(8, 1)], reg: 8, rm: 9 }],
  [32, '88 e0', { operands: [r(0, 1), r(0, 1, true)] }],
  [32, '48', { length: 1, mnemonic: 'dec', operands: [r(0, 4)] }],
  // REX followed by a legacy prefix is ignored; the last REX counts.
  [64, '48 66 89 c3', { length: 4, rex: 0, opSize: 2 }],
  [64, '41 48 89 c3', { length: 4, rex: 0x48, operands: [r(3, 8), r(0, 8)] }],
  // Immediates: zero- and sign-extension, imm64.
  [64, '48 b8 ef cd ab 89 67 45 23 01', { length: 10, opSize: 8, imm: 0x89abcdef | 0, immHi: 0x01234567, operands: [r(0, 8), i(8)] }],
  [64, 'b8 ff ff ff ff', { length: 5, opSize: 4, imm: -1, immHi: 0 }],
  [64, '41 b9 01 00 00 00', { operands: [r(9, 4), i(4)], imm: 1 }],
  [64, '48 c7 c0 ff ff ff ff', { length: 7, opSize: 8, imm: -1, immHi: -1 }],
  [64, '48 c7 c0 00 00 00 80', { imm: -0x80000000, immHi: -1 }],
  [64, '48 81 c1 ff ff ff 7f', { mnemonic: 'add', imm: 0x7fffffff, immHi: 0 }],
  [64, '48 83 c0 ff', { length: 4, mnemonic: 'add', opSize: 8, imm: -1, immHi: -1, operands: [r(0, 8), i(1)] }],
  [64, '83 c0 80', { opSize: 4, imm: -128 }],
  [64, '66 83 c0 ff', { opSize: 2, imm: -1 }],
  [64, '83 e8 7f', { mnemonic: 'sub', imm: 127, immHi: 0 }],
  [64, '80 c0 ff', { opSize: 1, imm: 255, immHi: 0 }],
  [64, 'b0 ff', { opSize: 1, imm: 255, operands: [r(0, 1), i(1)] }],
  [64, '66 05 34 12', { length: 4, opSize: 2, imm: 0x1234, operands: [r(0, 2), i(2)] }],
  [64, '48 05 00 00 00 80', { length: 6, opSize: 8, imm: -0x80000000, immHi: -1 }],
  [64, '6b c0 fe', { mnemonic: 'imul', operands: [r(0, 4), r(0, 4), i(1)], imm: -2 }],
  [64, '69 c0 00 01 00 00', { length: 6, imm: 256 }],
  [64, 'c1 e0 1f', { mnemonic: 'shl', imm: 31, operands: [r(0, 4), i(1)] }],
  [64, 'd1 f8', { mnemonic: 'sar', operands: [r(0, 4), { kind: 'implicit', name: '1', size: 1 }] }],
  [64, 'd3 e8', { mnemonic: 'shr', operands: [r(0, 4), r(1, 1)] }],
  // Memory operands: SIB, RIP-relative, disp8/disp32, segments.
  [64, '8b 05 10 00 00 00', { length: 6, mem: mem(REG_RIP, N, 1, 16), mod: 0, rm: 5 }],
  [64, '67 8b 05 f0 ff ff ff', { length: 7, addrSize: 4, mem: mem(REG_RIP, N, 1, -16) }],
  [32, '8b 05 78 56 34 12', { length: 6, mem: mem(N, N, 1, 0x12345678) }],
  [64, '8b 04 24', { length: 3, mem: mem(4, N, 1, 0, SEG_SS) }],
  [64, '42 8b 04 24', { mem: mem(4, 12, 1, 0, SEG_SS) }],
  [64, '8b 04 25 78 56 34 12', { length: 7, mem: mem(N, N, 1, 0x12345678) }],
  [64, '8b 44 c8 08', { mem: mem(0, 1, 8, 8) }],
  [64, '4b 8b 44 f5 00', { mem: mem(13, 14, 8, 0), reg: 0 }],
  [64, '41 8b 45 00', { length: 4, mem: mem(13, N, 1, 0) }],
  [64, '8b 45 f8', { mem: mem(5, N, 1, -8, SEG_SS) }],
  [64, '8b 84 24 00 01 00 00', { length: 7, mem: mem(4, N, 1, 256, SEG_SS) }],
  [64, '8b 0c 4d 00 00 00 00', { length: 7, mem: mem(N, 1, 2, 0) }],
  [64, '8b 0c 65 00 00 00 00', { length: 7, mem: mem(N, N, 1, 0) }],
  [64, '64 48 8b 04 25 28 00 00 00', { length: 9, segOverride: SEG_FS, mem: mem(N, N, 1, 0x28, SEG_FS) }],
  [64, '2e 8b 00', { segOverride: -1, mem: mem(0, N, 1, 0, SEG_DS) }],
  [64, '64 2e 8b 00', { segOverride: SEG_FS, mem: mem(0, N, 1, 0, SEG_FS) }],
  [64, '64 36 8b 45 00', { segOverride: SEG_FS, mem: mem(5, N, 1, 0, SEG_FS) }],
  [64, '65 64 8b 00', { segOverride: SEG_FS }],
  [32, '64 2e 8b 00', { segOverride: 1, mem: mem(0, N, 1, 0, 1) }],
  [64, '36 8b 00', { mem: mem(0, N, 1, 0, SEG_DS) }],
  [32, '26 8b 00', { segOverride: SEG_ES, mem: mem(0, N, 1, 0, SEG_ES) }],
  [32, '3e 8b 45 00', { mem: mem(5, N, 1, 0, SEG_DS) }],
  [64, '8d 04 40', { mnemonic: 'lea', operands: [r(0, 4), m(0)], mem: mem(0, 0, 2, 0) }],
  // moffs (A0-A3): address-size offsets.
  [64, '48 a1 00 00 00 00 00 80 ff ff', { length: 10, opSize: 8, mem: mem(N, N, 1, -0x800000000000), operands: [r(0, 8), m(8)] }],
  [64, 'a2 10 00 00 00 00 00 00 00', { length: 9, operands: [m(1), r(0, 1)], mem: mem(N, N, 1, 16) }],
  [64, '67 a1 78 56 34 12', { length: 6, addrSize: 4, mem: mem(N, N, 1, 0x12345678) }],
  [32, 'a1 78 56 34 12', { length: 5, mem: mem(N, N, 1, 0x12345678) }],
  [16, 'a1 34 12', { length: 3, opSize: 2, mem: mem(N, N, 1, 0x1234) }],
  [32, '64 a3 00 00 00 00', { mem: mem(N, N, 1, 0, SEG_FS) }],
  // 16-bit addressing forms.
  [16, '8b 00', { length: 2, addrSize: 2, mem: mem(3, 6, 1, 0) }],
  [16, '8b 01', { mem: mem(3, 7, 1, 0) }],
  [16, '8b 02', { mem: mem(5, 6, 1, 0, SEG_SS) }],
  [16, '8b 03', { mem: mem(5, 7, 1, 0, SEG_SS) }],
  [16, '8b 04', { mem: mem(6, N, 1, 0) }],
  [16, '8b 05', { mem: mem(7, N, 1, 0) }],
  [16, '8b 06 34 12', { length: 4, mem: mem(N, N, 1, 0x1234) }],
  [16, '8b 07', { mem: mem(3, N, 1, 0) }],
  [16, '8b 46 fe', { length: 3, mem: mem(5, N, 1, -2, SEG_SS) }],
  [16, '8b 87 00 80', { length: 4, mem: mem(3, N, 1, -0x8000) }],
  [16, '26 8b 46 00', { mem: mem(5, N, 1, 0, SEG_ES) }],
  [16, '67 8b 04 24', { length: 4, addrSize: 4, mem: mem(4, N, 1, 0, SEG_SS) }],
  [32, '67 8b 46 02', { length: 4, addrSize: 2, mem: mem(5, N, 1, 2, SEG_SS) }],
  [16, '66 b8 78 56 34 12', { length: 6, opSize: 4, imm: 0x12345678 }],
  [16, 'b8 34 12', { length: 3, opSize: 2, imm: 0x1234 }],
  [16, '66 8b 00', { opSize: 4, operands: [r(0, 4), m(4)] }],
  // Branches: rel8/rel16/rel32, 64-bit operand size in long mode.
  [64, 'e8 00 00 00 00', { length: 5, mnemonic: 'call', opSize: 8, imm: 0, operands: [rel(4)] }],
  [64, 'eb fe', { length: 2, mnemonic: 'jmp', imm: -2, immHi: -1, operands: [rel(1)] }],
  [64, '66 e8 00 00 00 00', { length: 6, opSize: 8 }],
  [64, '0f 84 fa ff ff ff', { length: 6, mnemonic: 'je', imm: -6, map: 1, opcode: 0x84 }],
  [32, '66 e9 fd ff', { length: 4, opSize: 2, imm: -3 }],
  [16, 'e8 fd ff', { length: 3, opSize: 2, imm: -3 }],
  [16, '66 e8 00 00 00 00', { length: 6, opSize: 4 }],
  [64, 'e3 fe', { mnemonic: 'jrcxz' }],
  [64, '67 e3 fe', { mnemonic: 'jecxz', addrSize: 4 }],
  [16, 'e3 fe', { mnemonic: 'jcxz' }],
  [64, 'e2 fe', { mnemonic: 'loop', imm: -2 }],
  [64, 'ff d0', { mnemonic: 'call', opSize: 8, operands: [r(0, 8)] }],
  [64, 'ff 24 c5 00 10 00 00', { length: 7, mnemonic: 'jmp', mem: mem(N, 0, 8, 0x1000) }],
  [64, 'c2 08 00', { length: 3, mnemonic: 'ret', imm: 8 }],
  [64, 'c3', { length: 1, mnemonic: 'ret', opSize: 8 }],
  [32, 'ca 04 00', { mnemonic: 'retf', imm: 4 }],
  [64, 'c8 10 00 01', { length: 4, mnemonic: 'enter', imm: 16, imm2: 1, opSize: 8 }],
  [64, 'c9', { mnemonic: 'leave', opSize: 8 }],
  // Far pointers.
  [32, 'ea 78 56 34 12 08 00', { length: 7, mnemonic: 'jmpf', imm: 0x12345678, imm2: 8, operands: [{ kind: 'far' }] }],
  [16, 'ea 34 12 00 f0', { length: 5, mnemonic: 'jmpf', imm: 0x1234, imm2: 0xf000 }],
  [32, '9a 00 00 00 00 10 00', { length: 7, mnemonic: 'callf', imm2: 0x10 }],
  [64, 'ff 18', { mnemonic: 'callf', operands: [m(6)] }],
  [64, '48 ff 2c 24', { mnemonic: 'jmpf', operands: [m(10)] }],
  [16, 'ff 1e 00 10', { length: 4, mnemonic: 'callf', operands: [m(4)] }],
  // Stack: default 64-bit operand size.
  [64, '50', { mnemonic: 'push', opSize: 8, operands: [r(0, 8)] }],
  [64, '41 57', { mnemonic: 'push', operands: [r(15, 8)] }],
  [64, '66 50', { opSize: 2, operands: [r(0, 2)] }],
  [64, '6a ff', { length: 2, mnemonic: 'push', opSize: 8, imm: -1, immHi: -1 }],
  [64, '66 6a ff', { opSize: 2, imm: -1 }],
  [64, '68 00 00 00 80', { length: 5, opSize: 8, imm: -0x80000000, immHi: -1 }],
  [32, '68 00 00 00 80', { length: 5, opSize: 4, imm: -0x80000000, immHi: 0 }],
  [64, '8f 00', { mnemonic: 'pop', opSize: 8, operands: [m(8)] }],
  [64, '9c', { mnemonic: 'pushfq', opSize: 8 }],
  [32, '9c', { mnemonic: 'pushfd', opSize: 4 }],
  [16, '9d', { mnemonic: 'popf', opSize: 2 }],
  [32, '60', { mnemonic: 'pushad' }],
  [64, '0f a0', { mnemonic: 'push', operands: [{ kind: 'seg', seg: SEG_FS }], opSize: 8 }],
  [32, '1e', { mnemonic: 'push', operands: [{ kind: 'seg', seg: SEG_DS }] }],
  [64, '48 98', { mnemonic: 'cdqe' }],
  [64, '99', { mnemonic: 'cdq' }],
  [16, '98', { mnemonic: 'cbw' }],
  // String instructions and REP prefixes.
  [64, 'f3 48 a5', { length: 3, mnemonic: 'movs', rep: 0xf3, opSize: 8, operands: [
    { kind: 'implicit', name: 'es:rdi', size: 8 }, { kind: 'implicit', name: 'ds:rsi', size: 8 }] }],
  [64, 'f2 ae', { mnemonic: 'scas', rep: 0xf2, opSize: 1 }],
  [64, 'f3 f2 a4', { rep: 0xf2 }],
  [32, 'aa', { mnemonic: 'stos', opSize: 1 }],
  [32, '66 ad', { mnemonic: 'lods', opSize: 2 }],
  [32, '2e a6', { mnemonic: 'cmps', segOverride: 1 }],
  [64, '65 a6', { mnemonic: 'cmps', segOverride: SEG_GS }],
  // I/O.
  [64, 'e4 60', { mnemonic: 'in', opSize: 1, imm: 0x60, operands: [r(0, 1), i(1)] }],
  [64, 'e7 80', { mnemonic: 'out', opSize: 4, imm: 0x80 }],
  [64, 'ed', { mnemonic: 'in', opSize: 4, operands: [r(0, 4), { kind: 'implicit', name: 'dx', size: 2 }] }],
  [64, '48 ed', { opSize: 4 }],
  [64, '66 ef', { mnemonic: 'out', opSize: 2 }],
  [32, '6c', { mnemonic: 'ins', opSize: 1 }],
  [32, 'f3 6f', { mnemonic: 'outs', rep: 0xf3, opSize: 4 }],
  // Group instructions and two-byte general-purpose opcodes.
  [64, 'f6 c0 01', { length: 3, mnemonic: 'test', imm: 1 }],
  [64, 'f7 c1 00 00 00 80', { length: 6, mnemonic: 'test', imm: -0x80000000, immHi: 0 }],
  [64, '48 f7 d8', { mnemonic: 'neg', opSize: 8 }],
  [64, 'f7 f1', { mnemonic: 'div' }],
  [64, 'fe c8', { mnemonic: 'dec', opSize: 1 }],
  [64, 'c6 00 7f', { mnemonic: 'mov', opSize: 1, imm: 0x7f }],
  [64, '66 c7 00 34 12', { length: 5, opSize: 2, imm: 0x1234 }],
  [64, '0f b6 c0', { mnemonic: 'movzx', opSize: 4, operands: [r(0, 4), r(0, 1)] }],
  [64, '48 0f bf c0', { mnemonic: 'movsx', opSize: 8, operands: [r(0, 8), r(0, 2)] }],
  [64, '48 63 c1', { mnemonic: 'movsxd', opSize: 8, operands: [r(0, 8), r(1, 4)] }],
  [64, '63 c1', { mnemonic: 'movsxd', opSize: 4, operands: [r(0, 4), r(1, 4)] }],
  [64, '66 63 c1', { mnemonic: 'movsxd', opSize: 2, operands: [r(0, 2), r(1, 2)] }],
  [32, '63 c1', { mnemonic: 'arpl' }],
  [64, '0f 44 c1', { mnemonic: 'cmove' }],
  [64, '0f 94 c0', { mnemonic: 'sete', opSize: 1, operands: [r(0, 1)] }],
  [64, '0f a4 c1 04', { length: 4, mnemonic: 'shld', imm: 4, operands: [r(1, 4), r(0, 4), i(1)] }],
  [64, '0f ad c1', { mnemonic: 'shrd', operands: [r(1, 4), r(0, 4), r(1, 1)] }],
  [64, '0f c1 01', { mnemonic: 'xadd' }],
  [64, 'f0 0f b1 0a', { mnemonic: 'cmpxchg', lock: true, mem: mem(2, N, 1, 0) }],
  [64, 'f0 48 0f c7 0e', { mnemonic: 'cmpxchg16b', lock: true, operands: [m(16)] }],
  [32, '0f c7 0e', { mnemonic: 'cmpxchg8b', operands: [m(8)] }],
  [64, '0f ba e0 05', { mnemonic: 'bt', imm: 5 }],
  [64, 'f0 0f ba 28 05', { mnemonic: 'bts', lock: true }],
  [64, '0f a3 c8', { mnemonic: 'bt' }],
  [64, 'f3 0f b8 c1', { mnemonic: 'popcnt', rep: 0xf3 }],
  [64, '66 f3 0f b8 c1', { mnemonic: 'popcnt', opSize: 2 }],
  [64, 'f3 0f bd c1', { mnemonic: 'lzcnt' }],
  [64, 'f3 48 0f bc c1', { mnemonic: 'tzcnt', opSize: 8 }],
  [64, '0f bc c1', { mnemonic: 'bsf' }],
  [64, '0f c8', { mnemonic: 'bswap', operands: [r(0, 4)] }],
  [64, '49 0f c8', { mnemonic: 'bswap', operands: [r(8, 8)] }],
  [64, '0f 38 f0 07', { length: 4, mnemonic: 'movbe', map: 2, opcode: 0xf0, operands: [r(0, 4), m(4)] }],
  [64, '66 0f 38 f1 07', { mnemonic: 'movbe', opSize: 2, operands: [m(2), r(0, 2)] }],
  [64, 'f2 48 0f 38 f1 c1', { mnemonic: 'crc32', operands: [r(0, 8), r(1, 8)] }],
  [64, '66 0f 38 f6 c1', { mnemonic: 'adcx', opSize: 4 }],
  [64, '0f 0b', { mnemonic: 'ud2' }],
  [64, '90', { mnemonic: 'nop', operands: [] }],
  [64, 'f3 90', { mnemonic: 'pause' }],
  [64, '41 90', { mnemonic: 'xchg', operands: [r(8, 4), r(0, 4)] }],
  [64, '0f 1f 44 00 00', { length: 5, mnemonic: 'nop' }],
  [64, '66 2e 0f 1f 84 00 00 00 00 00', { length: 10, mnemonic: 'nop' }],
  [64, 'f3 0f 1e fa', { length: 4, mnemonic: 'endbr64', operands: [] }],
  [32, 'f3 0f 1e fb', { length: 4, mnemonic: 'endbr32' }],
  [64, '0f 1e fa', { length: 3, mnemonic: 'nop' }],
  // System instructions.
  [64, '0f 01 10', { mnemonic: 'lgdt', operands: [m(10)] }],
  [32, '0f 01 18', { mnemonic: 'lidt', operands: [m(6)] }],
  [64, '0f 01 00', { mnemonic: 'sgdt' }],
  [64, '0f 01 38', { mnemonic: 'invlpg', mem: mem(0, N, 1, 0) }],
  [64, '0f 01 f8', { mnemonic: 'swapgs', length: 3 }],
  [64, '0f 01 f9', { mnemonic: 'rdtscp' }],
  [64, '0f 01 d0', { mnemonic: 'xgetbv' }],
  [64, '0f 01 c1', { mnemonic: 'vmcall' }],
  [64, '0f 01 d9', { mnemonic: 'vmmcall' }],
  [64, '0f 01 ee', { mnemonic: 'rdpkru' }],
  [64, 'f3 0f 01 28', { mnemonic: 'rstorssp', operands: [m(8)] }],
  [64, '0f 01 e0', { mnemonic: 'smsw', operands: [r(0, 4)] }],
  [64, '0f 01 30', { mnemonic: 'lmsw', operands: [m(2)] }],
  [64, '0f 00 d8', { mnemonic: 'ltr', operands: [r(0, 2)] }],
  [64, '0f 00 00', { mnemonic: 'sldt', operands: [m(2)] }],
  [64, '0f 03 c1', { mnemonic: 'lsl', operands: [r(0, 4), r(1, 4)] }],
  [64, '0f 03 01', { mnemonic: 'lsl', operands: [r(0, 4), m(2)] }],
  [64, '0f 0d 08', { mnemonic: 'prefetch' }],
  [64, '0f 18 c0', { mnemonic: 'nop', operands: [r(0, 4)] }],
  [64, '0f 02 c1', { mnemonic: 'lar' }],
  [64, '0f 20 d8', { mnemonic: 'mov', opSize: 8, operands: [r(0, 8), { kind: 'cr', n: 3 }] }],
  [64, '44 0f 22 c0', { operands: [{ kind: 'cr', n: 8 }, r(0, 8)] }],
  [32, 'f0 0f 20 c0', { operands: [r(0, 4), { kind: 'cr', n: 8 }], opSize: 4 }],
  [64, '0f 20 18', { mod: 3, operands: [r(0, 8), { kind: 'cr', n: 3 }] }],
  [64, '0f 23 f8', { operands: [{ kind: 'dr', n: 7 }, r(0, 8)] }],
  [64, '8e d8', { mnemonic: 'mov', operands: [{ kind: 'seg', seg: SEG_DS }, r(0, 4)] }],
  [64, '8e 18', { mnemonic: 'mov', operands: [{ kind: 'seg', seg: SEG_DS }, m(2)] }],
  [64, '8c d8', { operands: [r(0, 4), { kind: 'seg', seg: SEG_DS }], opSize: 4 }],
  [64, '8c 18', { operands: [m(2), { kind: 'seg', seg: SEG_DS }], opSize: 2 }],
  [64, '0f 05', { mnemonic: 'syscall' }],
  [64, '48 0f 07', { mnemonic: 'sysret' }],
  [32, '0f 34', { mnemonic: 'sysenter' }],
  [32, '0f 35', { mnemonic: 'sysexit' }],
  [64, '0f a2', { mnemonic: 'cpuid' }],
  [64, '0f 32', { mnemonic: 'rdmsr' }],
  [64, '0f 30', { mnemonic: 'wrmsr' }],
  [64, '0f 31', { mnemonic: 'rdtsc' }],
  [64, '0f 06', { mnemonic: 'clts' }],
  [64, '0f 09', { mnemonic: 'wbinvd' }],
  [64, 'f4', { mnemonic: 'hlt' }],
  [64, 'fa', { mnemonic: 'cli' }],
  [64, 'cc', { mnemonic: 'int3' }],
  [64, 'cd 80', { mnemonic: 'int', imm: 0x80 }],
  [64, 'f1', { mnemonic: 'int1' }],
  [32, 'ce', { mnemonic: 'into' }],
  [32, 'cf', { mnemonic: 'iretd' }],
  [64, '48 cf', { mnemonic: 'iretq' }],
  [64, '0f ae f0', { mnemonic: 'mfence' }],
  [64, 'f3 48 0f ae c0', { mnemonic: 'rdfsbase', operands: [r(0, 8)] }],
  [64, '0f ae 38', { mnemonic: 'clflush' }],
  [64, '0f c7 f0', { mnemonic: 'rdrand', operands: [r(0, 4)] }],
  [64, '0f 78 c1', { mnemonic: 'vmread', operands: [r(1, 8), r(0, 8)] }],
  [16, 'd4 0a', { mnemonic: 'aam', imm: 10 }],
  [32, '62 00', { mnemonic: 'bound', operands: [r(0, 4), m(8)] }],
  [32, 'c4 00', { mnemonic: 'les', operands: [r(0, 4), m(6)] }],
  [16, 'c5 00', { mnemonic: 'lds', operands: [r(0, 2), m(4)] }],
  // x87, SSE, three-byte maps: length and memory operand.
  [64, 'd9 c0', { length: 2, mnemonic: 'x87', mem: null }],
  [64, 'dd 04 24', { length: 3, mnemonic: 'fld', operands: [m(8)], mem: mem(4, N, 1, 0, SEG_SS) }],
  [64, 'db e3', { length: 2, mnemonic: 'fninit' }],
  [64, '9b db e2', { length: 1, mnemonic: 'fwait' }],
  [64, 'df e0', { mnemonic: 'fnstsw', operands: [r(0, 2)] }],
  [32, 'd9 7c 24 fe', { length: 4, mnemonic: 'fnstcw', opSize: 2 }],
  [16, 'db 2f', { mnemonic: 'fld', operands: [m(10)] }],
  [64, 'de 0e', { mnemonic: 'fimul', operands: [m(2)] }],
  [64, 'd9 84 24 00 01 00 00', { length: 7 }],
  [64, '9b', { length: 1, mnemonic: 'fwait' }],
  [64, '0f 10 04 24', { length: 4, mnemonic: 'sse' }],
  [64, '66 0f 70 c0 1b', { length: 5, imm: 0x1b }],
  [64, '66 0f 3a 0f c1 08', { length: 6, map: 3, opcode: 0x0f, imm: 8 }],
  [64, '66 0f 38 00 c1', { length: 5, map: 2 }],
  [64, '66 0f 78 c1 04 08', { length: 6, mnemonic: 'extrq', imm: 4, imm2: 8 }],
  [64, '0f 0f c1 b4', { length: 4, mnemonic: '3dnow' }],
  [64, '0f 77', { length: 2, mnemonic: 'emms' }],
  // VEX / EVEX / XOP.
  [64, 'c5 f8 77', { length: 3, vex: 2, mnemonic: 'vex', map: 1, opcode: 0x77 }],
  [64, 'c5 fd 6f 04 24', { length: 5, vex: 2, mem: mem(4, N, 1, 0, SEG_SS) }],
  [64, 'c4 e3 79 0f c1 08', { length: 6, vex: 3, map: 3, imm: 8 }],
  [64, 'c4 42 7d 18 04 24', { length: 6, vex: 3, map: 2, mem: mem(12, N, 1, 0) }],
  [64, 'c4 e2 f8 f2 c1', { length: 5, vex: 3, opSize: 8 }],
  [32, 'c5 f8 77', { length: 3, vex: 2 }],
  [64, '62 f1 7c 48 10 44 24 01', { length: 8, vex: 4, mnemonic: 'evex', mem: mem(4, N, 1, 1, SEG_SS) }],
  [64, '62 f3 7d 48 0f c1 08', { length: 7, vex: 4, map: 3, imm: 8 }],
  [64, '8f e9 78 e1 c1', { length: 5, vex: 3, mnemonic: 'xop' }],
  [64, '8f e8 78 c2 c1 04', { length: 6, vex: 3, mnemonic: 'xop' }],
  [64, '8f ea 78 10 c1 04 00 00 00', { length: 9, vex: 3, imm: 4 }],
  // Offsets other than 0.
  [64, '90 90 48 89 c3', { length: 1 }],
];

test('decoder: table of known encodings', () => {
  const failures: string[] = [];
  for (const [mode, text, want] of CASES) {
    let insn: Instruction;
    try {
      insn = decode(hexBytes(text), mode);
    } catch (e) {
      failures.push(`${mode}-bit '${text}': threw ${String(e)}`);
      continue;
    }
    assert.equal(insn.mode, mode);
    for (const [k, v] of Object.entries(want)) {
      const got = (insn as unknown as Record<string, unknown>)[k];
      try {
        assert.deepEqual(got, v);
      } catch {
        failures.push(`${mode}-bit '${text}': ${k} = ${JSON.stringify(got)}, want ${JSON.stringify(v)}`);
      }
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${CASES.length} cases wrong`);
});

test('decoder: offset selects the instruction within the buffer', () => {
  const bytes = hexBytes('90 90 48 89 c3 0f 05');
  assert.equal(decode(bytes, 64, 2).length, 3);
  assert.equal(decode(bytes, 64, 2).mnemonic, 'mov');
  assert.equal(decode(bytes, 64, 5).mnemonic, 'syscall');
});

test('decoder: every register form of ModRM maps reg/rm with REX bits', () => {
  for (let rex = 0x40; rex <= 0x4f; rex++) {
    for (let modrm = 0xc0; modrm <= 0xff; modrm++) {
      const insn = decode(Uint8Array.of(rex, 0x89, modrm), 64);
      const reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
      const rm = (modrm & 7) | (rex & 1 ? 8 : 0);
      const size = rex & 8 ? 8 : 4;
      assert.deepEqual(insn.operands, [r(rm, size), r(reg, size)], `rex ${rex.toString(16)} modrm ${modrm.toString(16)}`);
      assert.equal(insn.reg, reg);
      assert.equal(insn.rm, rm);
    }
  }
});
