/**
 * The decoded-instruction record shared by the decoder (src/x86/decoder), the emulator
 * (src/x86/exec) and the soft backend. Plain numbers only, so the soft CPU can cache it per page.
 *
 * Register numbering: 0..15 = rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (REX bits already applied).
 * Segment numbering: 0..5 = es cs ss ds fs gs.
 */

export const SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5;
/** Base register number that means "RIP-relative" in a MemoryOperand. */
export const REG_RIP = 16;
export const REG_NONE = -1;

export type CodeMode = 16 | 32 | 64;

/** Opcode maps: 0 one-byte, 1 = 0F, 2 = 0F 38, 3 = 0F 3A. */
export type OpcodeMap = 0 | 1 | 2 | 3;

export interface MemoryOperand {
  /** Effective segment: the override if any, else SS for rBP/rSP bases, else DS. */
  seg: number;
  /** GPR number, REG_RIP, or REG_NONE. */
  base: number;
  /** GPR number or REG_NONE (index 4 without REX.X is "none"). */
  index: number;
  scale: 1 | 2 | 4 | 8;
  /** Signed displacement (sign-extended disp8/disp16/disp32; disp16 sign-extended too). */
  disp: number;
}

export type Operand =
  /** A general register. high: AH/CH/DH/BH (reg is then 0..3). */
  | { kind: 'reg'; reg: number; size: 1 | 2 | 4 | 8; high: boolean }
  | { kind: 'mem'; size: number }
  | { kind: 'imm'; size: number }
  | { kind: 'seg'; seg: number }
  | { kind: 'cr'; n: number }
  | { kind: 'dr'; n: number }
  /** Relative branch target: decoded into Instruction.imm (already sign-extended). */
  | { kind: 'rel'; size: number }
  /** Far pointer ptr16:16/ptr16:32: offset in imm, selector in imm2. */
  | { kind: 'far' }
  /** Implicit operands (string ops, DX port, CL count, constant 1, accumulator...) are named. */
  | { kind: 'implicit'; name: string; size: number };

export interface Instruction {
  /** Total length in bytes, 1..15. */
  length: number;
  /** The code mode it was decoded in (default operand/address size, 64 = long mode). */
  mode: CodeMode;
  map: OpcodeMap;
  /** The opcode byte within its map. */
  opcode: number;
  /** Lower-case Intel mnemonic, e.g. 'mov', 'add', 'movzx', 'rep movs' is 'movs' with rep set. */
  mnemonic: string;
  /** Effective operand size in bytes (1 for byte forms). */
  opSize: 1 | 2 | 4 | 8;
  /** Effective address size in bytes. */
  addrSize: 2 | 4 | 8;

  /** Prefixes as seen. rep: 0, 0xF3 (REP/REPE) or 0xF2 (REPNE), the last of them. */
  lock: boolean;
  rep: 0 | 0xf2 | 0xf3;
  /** Segment override prefix as a segment number, or -1. */
  segOverride: number;
  opsizePrefix: boolean;
  addrsizePrefix: boolean;
  /** The REX byte (0x40..0x4f), or 0 when absent. */
  rex: number;

  hasModrm: boolean;
  /** ModRM fields; reg includes REX.R; rm includes REX.B (register forms). 0 when no ModRM. */
  mod: number;
  reg: number;
  rm: number;
  /** The memory operand when mod != 3 (or moffs forms A0-A3: base and index REG_NONE). */
  mem: MemoryOperand | null;

  /**
   * Immediate (or relative displacement), low 32 bits as a signed int32, after the architectural
   * extension to operand size (sign-extension where the instruction sign-extends).
   * immHi: the high 32 bits (signed int32) for 64-bit operands (e.g. MOV r64, imm64; sign-extended imm32).
   */
  imm: number;
  immHi: number;
  /** Second immediate: ENTER's imm8 level, the selector of a far pointer. */
  imm2: number;

  /** Operands in Intel order (destination first). */
  operands: Operand[];

  /** VEX/EVEX-encoded forms are only length-decoded; they set this. */
  vex: 0 | 2 | 3 | 4;
}
