/**
 * The decoded-instruction record shared by the decoder (src/x86/decoder), the emulator
 * (src/x86/exec) and the soft backend. Plain numbers only, so the soft CPU can cache it per page.
 *
 * Register numbering: 0..15 = rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (REX bits already applied).
 * Segment numbering: 0..5 = es cs ss ds fs gs.
 *
 * Decoder conventions (src/x86/decoder):
 * - Operand objects may be shared between instructions and are frozen: treat them as read-only.
 * - Registers named by the opcode (AL, CL, rAX/eAX, the +r forms) are 'reg' operands; 'implicit'
 *   names are 'ds:rsi' (string source, segment overridable), 'es:rdi' (string destination),
 *   'dx' (the I/O port) and '1' (shift count of D0/D1).
 * - Far forms are the mnemonics 'callf', 'jmpf', 'retf'; size-dependent names follow the operand
 *   size (cbw/cwde/cdqe, pushf/pushfd/pushfq, iret/iretd/iretq, cmpxchg8b/cmpxchg16b) or, for
 *   jcxz/jecxz/jrcxz, the address size. Forms decoded for length only are named 'x87', 'sse',
 *   '3dnow' (legacy encodings), 'vex', 'evex', 'xop'.
 * - 66-prefixed near branches in 64-bit mode keep 64-bit operand size and rel32 (Intel's rule).
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
  /**
   * Signed displacement (sign-extended disp8/disp16/disp32; disp16 sign-extended too).
   * moffs (A0-A3): the offset; a 64-bit one as hi * 2^32 + lo (exact for canonical addresses).
   * scale is 1 when there is no index.
   */
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
  /**
   * Segment override prefix as a segment number, or -1. The one in effect: the last one; in 64-bit
   * mode ES/CS/SS/DS prefixes are null prefixes (no effect, and they do not cancel FS/GS), so only
   * FS/GS appear here.
   */
  segOverride: number;
  opsizePrefix: boolean;
  addrsizePrefix: boolean;
  /** The REX byte (0x40..0x4f), or 0 when absent. */
  rex: number;

  hasModrm: boolean;
  /**
   * ModRM fields; reg includes REX.R; rm includes REX.B (register forms). 0 when no ModRM.
   * Memory forms keep the raw 3-bit rm (4 = SIB). MOV to/from CR/DR report mod 3 (the CPU ignores mod).
   */
  mod: number;
  reg: number;
  rm: number;
  /** The memory operand when mod != 3 (or moffs forms A0-A3: base and index REG_NONE). */
  mem: MemoryOperand | null;

  /**
   * Immediate (or relative displacement), low 32 bits as a signed int32, after the architectural
   * extension to operand size (sign-extension where the instruction sign-extends).
   * immHi: the high 32 bits (signed int32) for 64-bit operands (e.g. MOV r64, imm64; sign-extended imm32).
   * Precisely: (immHi:imm) is the immediate extended to 64 bits, sign-extended where the instruction
   * sign-extends it (imm8 of 6A/6B/83 group 1, imm32 at 64-bit operand size, every rel), zero-extended
   * otherwise (MOV AL,0xFF: imm 255; INT n; IN/OUT port; RET n; ENTER; shift counts; imm32 at 32-bit
   * operand size: imm = the int32 bit pattern, immHi 0). Mask to the operand size as needed.
   */
  imm: number;
  immHi: number;
  /** Second immediate: ENTER's imm8 level, the selector of a far pointer, EXTRQ/INSERTQ's second imm8. */
  imm2: number;

  /** Operands in Intel order (destination first). */
  operands: Operand[];

  /**
   * VEX/EVEX-encoded forms are only length-decoded; they set this to the prefix length (C5: 2,
   * C4 and XOP: 3, EVEX: 4). map/opcode are the VEX map (EVEX maps 5/6 report 2, XOP maps 8/9/10
   * report 3/2/1: the legacy map with the same immediate rule); mem is filled.
   */
  vex: 0 | 2 | 3 | 4;
}
