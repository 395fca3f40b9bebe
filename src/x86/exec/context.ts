/**
 * What the instruction executor (src/x86/exec) needs from whoever runs it. Two implementations:
 * the soft backend's CPU (src/backends/soft), and the assists' one-instruction emulator
 * (src/x86/assist), which runs over a getState snapshot with MMIO going to the caller's handler.
 *
 * 64-bit values are two int32 halves: no BigInt on the hot path.
 * Linear/effective addresses are JS numbers: uint32 in 16/32-bit code; in 64-bit code a signed
 * number (hi * 2^32 + lo>>>0 with hi signed), exact for every canonical address.
 */
import type { FlagState } from './lazy-flags.js';

/** Index of RIP in ExecContext.regs halves: regs[RIP_LO], regs[RIP_LO + 1]. */
export const RIP_LO = 32;

/** RFLAGS bits. */
export const CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8,
  IF = 1 << 9, DF = 1 << 10, OF = 1 << 11;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** A fault raised by an instruction: the runner delivers it (soft) or reports it (assists). */
export class X86Fault extends Error {
  constructor(readonly vector: number, readonly errorCode: number | undefined, detail: string) {
    super(`#${VECTOR_NAMES[vector] ?? vector}${errorCode === undefined ? '' : `(${errorCode})`}: ${detail}`);
    this.name = 'X86Fault';
  }
}
const VECTOR_NAMES: Record<number, string> = {
  0: 'DE', 1: 'DB', 3: 'BP', 4: 'OF', 5: 'BR', 6: 'UD', 7: 'NM', 8: 'DF', 10: 'TS', 11: 'NP',
  12: 'SS', 13: 'GP', 14: 'PF', 16: 'MF', 17: 'AC', 18: 'MC', 19: 'XM',
};

export interface ExecContext extends FlagState {
  /** 16 GPRs then RIP, as [lo, hi] int32 pairs: rax = regs[0], regs[1]; rip = regs[32], regs[33]. */
  regs: Int32Array;
  /**
   * RFLAGS (the upper 32 bits are reserved zero), the architectural view of the lazy flag state
   * (FlagState): implementations extend LazyFlags, where this is an accessor.
   */
  flags: number;
  /** Current code mode: 16/32 from CS.D, 64 in long mode with CS.L. */
  mode: 16 | 32 | 64;
  /** Stack address size in bytes (2, 4, or 8 in long mode). */
  stackSize: 2 | 4 | 8;

  /**
   * Memory through segmentation and paging. seg: 0..5 (es cs ss ds fs gs). size 1, 2 or 4
   * returns the value (unsigned for 1/2, int32 for 4); size 8 returns the low half and leaves
   * the high half in memHi. Throws X86Fault for #GP/#SS/#PF.
   */
  read(seg: number, addr: number, size: 1 | 2 | 4 | 8): number;
  memHi: number;
  write(seg: number, addr: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void;
  /**
   * Runs a locked read-modify-write instruction (LOCK prefix, XCHG with memory) so that no other
   * thread's access to its destination falls between its read and its write (a shared machine's
   * vCPUs run in several threads). wide: LOCK CMPXCHG16B, whose 16 bytes no single host
   * operation covers. Absent: run(ctx) as it is (one thread sees guest memory).
   */
  atomically?(run: (ctx: ExecContext) => boolean, wide: boolean): boolean;

  /**
   * Current privilege level (0..3). Only POPF needs it (which of IF/IOPL it may change); when
   * absent, execute() returns false for POPF and leaves it to the runner.
   */
  cpl?: number;
  /**
   * REP string iterations left to run: each iteration consumes one (the soft CPU refills it per
   * slice of its run loop, so a stop request or an interrupt is not held up by long REP loops).
   * When it runs out with RCX != 0, RIP stays on the instruction (as after an interrupt on
   * hardware) and execute() returns true. Absent: the whole loop runs.
   */
  repBudget?: number;
  /** 5-level paging is on (CR4.LA57): near branch targets are checked as 57-bit canonical. */
  la57?: boolean;
  /**
   * A view of memory from seg:addr to the end of its page (at most max bytes) that REP MOVS/STOS
   * may copy or fill as a whole, or undefined: then the string instruction runs one element the
   * checking way (read/write), which may fault or exit. Only plain RAM that these accesses could
   * reach without any fault, exit or side effect qualifies. Absent: always one element at a time.
   */
  bulkView?(seg: number, addr: number, max: number, write: boolean): Uint8Array | undefined;
}
