/**
 * The description of one SSE floating-point instruction form, as the dispatcher needs it.
 * See index.ts for the calling protocol.
 */

/** What a ModRM field names: an XMM register, an MMX register, or a general register. */
export type OperandKind = 'xmm' | 'mmx' | 'gpr';

/** The MXCSR control the handlers read. */
export interface FloatEnv {
  readonly mxcsr: number;
}

export interface SseFloatForm {
  readonly mnemonic: string;
  /** What ModRM.reg names: the destination (and the first source when readsDst). */
  readonly dst: OperandKind;
  /** What ModRM.rm names when mod = 3. */
  readonly src: OperandKind;
  /** Width of the general register operand (dst or src), 4 or 8 bytes (REX.W), when there is one. */
  readonly gprBytes?: 4 | 8;
  /** Bytes read when ModRM.rm is memory (the src image then holds them from byte 0). */
  readonly memSize: 4 | 8 | 16;
  /** The memory operand must be 16-byte aligned (#GP(0) otherwise): legacy-SSE 128-bit operands. */
  readonly aligned: boolean;
  /** The memory form is #UD (MOVMSKPS/PD take only a register). */
  readonly registerOnly: boolean;
  /** The dst image must hold the register's current value (it is a source or partly preserved). */
  readonly readsDst: boolean;
  /** An imm8 follows ModRM. */
  readonly imm8: boolean;
  /**
   * The x87-to-MMX transition (TOS = 0, tag word all valid; a pending x87 exception is taken
   * first as #MF) this form makes: 'always' (CVTPI2PS, CVT(T)PS2PI, CVT(T)PD2PI), only with a
   * register source ('register', CVTPI2PD: its m64 form touches no x87/MMX state, SDM), or none.
   */
  readonly mmxTransition?: 'always' | 'register';
  /** Where out goes: the ModRM.reg register, or EFLAGS (COMIS/UCOMIS; dst is then only read). */
  readonly writes: 'dst' | 'eflags';
  /**
   * Computes the instruction into out (16 bytes, its first bytes the result: 16 for XMM, 8 for
   * MMX, gprBytes for a GPR, 4 for EFLAGS as a uint32 LE) and returns the MXCSR exception flags it
   * raises (bits 0..5). dst/src/out must not alias each other.
   */
  run(env: FloatEnv, dst: Uint8Array, src: Uint8Array, imm8: number, out: Uint8Array): number;
}
