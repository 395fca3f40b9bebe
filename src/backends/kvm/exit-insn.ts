/**
 * Just enough x86 decoding to describe the instructions that cause KVM's user-space exits
 * (IN/OUT/INS/OUTS, RDMSR/WRMSR): their length (for npc) and the string/REP prefixes, which
 * kvm_run does not report. Legacy prefixes and REX are skipped by table; anything else is
 * "not an exiting instruction" (undefined), never an exception.
 */

export interface ExitInsn {
  length: number;
  opcode: number;
  /** 0x0f-prefixed opcode (RDMSR 0F 32, WRMSR 0F 30). */
  twoByte: boolean;
  str: boolean;
  rep: boolean;
}

const LEGACY_PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);

/** Bytes after the opcode, and whether it is a string form, for the one-byte I/O opcodes. */
const IO_OPCODES: ReadonlyMap<number, { imm: number; str: boolean; in: boolean }> = new Map([
  [0xe4, { imm: 1, str: false, in: true }], [0xe5, { imm: 1, str: false, in: true }],
  [0xe6, { imm: 1, str: false, in: false }], [0xe7, { imm: 1, str: false, in: false }],
  [0xec, { imm: 0, str: false, in: true }], [0xed, { imm: 0, str: false, in: true }],
  [0xee, { imm: 0, str: false, in: false }], [0xef, { imm: 0, str: false, in: false }],
  [0x6c, { imm: 0, str: true, in: true }], [0x6d, { imm: 0, str: true, in: true }],
  [0x6e, { imm: 0, str: true, in: false }], [0x6f, { imm: 0, str: true, in: false }],
]);

const MSR_OPCODES = new Set([0x30, 0x32]);

/** Decodes bytes as an I/O instruction of direction `isIn`, or returns undefined. */
export function decodeIoInsn(bytes: Uint8Array, long: boolean, isIn: boolean): ExitInsn | undefined {
  let i = 0, rep = false;
  while (i < bytes.length && i < 14 && LEGACY_PREFIXES.has(bytes[i]!)) {
    if (bytes[i] === 0xf3 || bytes[i] === 0xf2) rep = true;
    i++;
  }
  if (long && i < bytes.length && (bytes[i]! & 0xf0) === 0x40) i++;
  if (i >= bytes.length) return undefined;
  const opcode = bytes[i]!;
  const form = IO_OPCODES.get(opcode);
  if (!form || form.in !== isIn) return undefined;
  const length = i + 1 + form.imm;
  if (length > bytes.length) return undefined;
  return { length, opcode, twoByte: false, str: form.str, rep: form.str && rep };
}

/** Decodes bytes as RDMSR (0F 32) or WRMSR (0F 30), or returns undefined. */
export function decodeMsrInsn(bytes: Uint8Array, long: boolean, opcode: 0x30 | 0x32): ExitInsn | undefined {
  let i = 0;
  while (i < bytes.length && i < 13 && LEGACY_PREFIXES.has(bytes[i]!)) i++;
  if (long && i < bytes.length && (bytes[i]! & 0xf0) === 0x40) i++;
  if (i + 2 > bytes.length || bytes[i] !== 0x0f || !MSR_OPCODES.has(bytes[i + 1]!) || bytes[i + 1] !== opcode) return undefined;
  return { length: i + 2, opcode, twoByte: true, str: false, rep: false };
}
