/**
 * What the decoder refuses: opcodes invalid in 64-bit mode, undefined and misused encodings
 * (ENODEV), the 15-byte limit (ENODEV), running out of bytes (EFAULT), bad arguments (EINVAL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import type { CodeMode } from '../../src/x86/instruction.js';
import { assertVmmError, hexBytes } from './helpers.js';

/** Valid in 32-bit mode, #UD in 64-bit mode. */
const INVALID_IN_64 = [
  '06', '07', '0e', '16', '17', '1e', '1f', '27', '2f', '37', '3f', '60', '61', 'ce',
  'd4 0a', 'd5 0a', '82 c0 01', '9a 00 00 00 00 08 00', 'ea 00 00 00 00 08 00',
];

test('decoder: opcodes invalid in 64-bit mode are ENODEV there and valid in 32-bit mode', () => {
  for (const text of INVALID_IN_64) {
    const bytes = hexBytes(text);
    const e = assertVmmError(() => decode(bytes, 64), 'ENODEV', `64-bit ${text}`);
    assert.match(e.message, new RegExp(text.split(' ')[0]), 'the message shows the bytes');
    assert.equal(decode(bytes, 32).length, bytes.length, `32-bit ${text}`);
  }
  // In 64-bit mode C4/C5/62 are always VEX/EVEX and 40-4F are REX prefixes.
  assert.equal(decode(hexBytes('c5 f8 77'), 64).vex, 2);
  assert.equal(decode(hexBytes('48 90'), 64).length, 2);
});

const INVALID: [CodeMode, string, string][] = [
  [32, 'd6', 'undefined opcode'],
  [64, '0f 04', 'undefined opcode'],
  [64, '0f 0a', 'undefined opcode'],
  [64, '0f 24 c0', 'undefined opcode'],
  [64, '0f 36', 'undefined opcode'],
  [64, '0f 39', 'undefined opcode'],
  [64, '0f b8 c0', 'undefined opcode'],
  [64, 'f0 01 c0', 'LOCK'],
  [64, 'f0 90', 'LOCK'],
  [64, 'f0 8b 00', 'LOCK'],
  [64, 'f0 3b 00', 'LOCK'],
  [64, 'f0 0f 23 c0', 'LOCK'],
  [64, '8d c0', 'memory operand'],
  [64, '0f 01 e9', 'undefined opcode'],
  [32, '0f 01 f8', '64-bit mode'],
  [64, '8e c8', 'segment register'],
  [64, '8c f0', 'segment register'],
  [64, '0f 22 c8', 'cr1'],
  [64, '0f 20 e8', 'cr5'],
  [64, '44 0f 23 c0', 'dr8'],
  [64, 'fe d0', 'undefined opcode'],
  [64, 'ff f8', 'undefined opcode'],
  [64, 'ff d8', 'memory operand'],
  [64, '0f c7 c8', 'undefined opcode'],
  [64, '0f ba c0 01', 'undefined opcode'],
  [64, '0f 38 f0 c0', 'memory operand'],
  [64, '8f 20', 'undefined opcode'],
  [64, 'c6 08 00', 'undefined opcode'],
  [64, '66 c5 f8 77', 'VEX'],
  [64, 'f3 c4 e2 79 18 00', 'VEX'],
  [64, '48 c5 f8 77', 'VEX'],
  [64, 'c4 e0 78 00 c0', 'VEX map'],
  [64, '62 f4 7c 48 10 c0', 'EVEX map'],
  [32, '0f 01 f8', 'valid only in 64-bit mode'],
  [64, 'd9 08', 'undefined opcode'],
  [64, 'dd 28', 'undefined opcode'],
];

test('decoder: undefined and misused encodings are ENODEV naming why and the bytes', () => {
  for (const [mode, text, why] of INVALID) {
    const e = assertVmmError(() => decode(hexBytes(text), mode), 'ENODEV', `${mode}-bit ${text}`);
    assert.ok(e.message.includes(why), `${mode}-bit ${text}: '${e.message}' should say '${why}'`);
  }
});

test('decoder: the 15-byte limit', () => {
  const fifteen = hexBytes(`${'66 '.repeat(14)}90`);
  assert.equal(decode(fifteen, 64).length, 15);
  assert.equal(decode(hexBytes(`${'2e '.repeat(4)}66 48 b8 01 02 03 04 05 06 07 08`), 64).length, 15);
  const sixteen = hexBytes(`${'66 '.repeat(15)}90`);
  const e = assertVmmError(() => decode(sixteen, 64), 'ENODEV', '16 bytes');
  assert.match(e.message, /longer than 15 bytes/);
  assertVmmError(() => decode(hexBytes(`${'2e '.repeat(5)}66 48 b8 01 02 03 04 05 06 07 08`), 64), 'ENODEV', 'imm64 past 15');
  // A long run of prefixes with the buffer ending before byte 15 is truncated, not too long.
  assertVmmError(() => decode(hexBytes('66 '.repeat(10)), 64), 'EFAULT', '10 prefixes');
});

test('decoder: running out of bytes is EFAULT truncated, at every cut of valid instructions', () => {
  const samples: [CodeMode, string][] = [
    [64, '48 b8 ef cd ab 89 67 45 23 01'], [64, '64 48 8b 04 25 28 00 00 00'], [64, 'c4 e3 79 0f c1 08'],
    [64, '62 f1 7c 48 10 44 24 01'], [16, '66 ea 00 00 00 00 08 00'], [32, '8b 84 24 00 01 00 00'],
    [64, 'f0 48 0f c7 0e'], [64, '0f 3a 0f c1 08'], [64, '8f ea 78 10 c1 04 00 00 00'],
  ];
  for (const [mode, text] of samples) {
    const bytes = hexBytes(text);
    assert.equal(decode(bytes, mode).length, bytes.length, text);
    for (let cut = 0; cut < bytes.length; cut++) {
      const e = assertVmmError(() => decode(bytes.subarray(0, cut), mode), 'EFAULT', `${text} cut at ${cut}`);
      assert.match(e.message, /truncated/);
    }
  }
  assertVmmError(() => decode(hexBytes('90'), 64, 1), 'EFAULT', 'offset at end');
});

test('decoder: bad arguments are EINVAL', () => {
  assertVmmError(() => decode(hexBytes('90'), 8 as CodeMode), 'EINVAL', 'mode 8');
  assertVmmError(() => decode(hexBytes('90'), 64, -1), 'EINVAL', 'offset -1');
  assertVmmError(() => decode(hexBytes('90'), 64, 0.5), 'EINVAL', 'offset 0.5');
  assertVmmError(() => decode([0x90] as unknown as Uint8Array, 64), 'EINVAL', 'plain array');
});

/**
 * The whole one-byte and 0F maps: with a given second byte (ModRM) and zeros after it, exactly
 * these opcodes are ENODEV; every other opcode decodes. Reviewed against the SDM opcode tables.
 */
const UNDEFINED_BY_MODRM: [number, CodeMode, string, string][] = [
  [0x00, 64, '06 07 0e 16 17 1e 1f 27 2f 37 3f 60 61 62 82 9a c4 ce d4 d5 d6 ea',
    '04 0a 0c 24 25 26 27 36 39 3b 3c 3d 3e 3f 7a 7b a6 a7 b8 ba c7'],
  [0x00, 32, 'd6', '04 0a 0c 24 25 26 27 36 39 3b 3c 3d 3e 3f 7a 7b a6 a7 b8 ba c7'],
  [0xc0, 64, '06 07 0e 16 17 1e 1f 27 2f 37 3f 60 61 62 82 8d 9a c4 ce d4 d5 d6 ea f0',
    '04 0a 0c 24 25 26 27 36 39 3b 3c 3d 3e 3f 7a 7b ae b2 b4 b5 b8 ba c3 c7'],
  [0xc0, 32, '62 8d c4 d6 f0', '04 0a 0c 24 25 26 27 36 39 3b 3c 3d 3e 3f 7a 7b ae b2 b4 b5 b8 ba c3 c7'],
  [0x0f, 64, '06 07 0e 16 17 1e 1f 27 2f 37 3f 60 61 62 82 8e 8f 9a c4 c6 c7 ce d4 d5 d6 d9 ea f0',
    '04 0a 0c 20 22 24 25 26 27 36 39 3b 3c 3d 3e 3f 7a 7b a6 a7 b8 ba'],
  [0x0f, 32, '8e 8f c6 c7 d6 d9 f0', '04 0a 0c 20 22 24 25 26 27 36 39 3b 3c 3d 3e 3f 7a 7b a6 a7 b8 ba'],
];

test('decoder: the one-byte and 0F maps are complete (only the undefined opcodes are ENODEV)', () => {
  for (const [modrm, mode, oneByte, twoByte] of UNDEFINED_BY_MODRM) {
    for (const [escape, want] of [[[], oneByte], [[0x0f], twoByte]] as [number[], string][]) {
      const bad: string[] = [];
      for (let op = 0; op < 256; op++) {
        const bytes = Uint8Array.from([...escape, op, modrm, ...new Array<number>(13).fill(0)]);
        try {
          decode(bytes, mode);
        } catch (e) {
          bad.push(op.toString(16).padStart(2, '0'));
          assert.equal((e as { code?: string }).code, 'ENODEV', `${mode}-bit ${escape.length ? '0f ' : ''}${op.toString(16)}`);
        }
      }
      assert.equal(bad.join(' '), want, `${mode}-bit ${escape.length ? '0F map' : 'one-byte map'}, ModRM ${modrm.toString(16)}`);
    }
  }
});
