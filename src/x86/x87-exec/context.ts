/**
 * What the x87 instruction layer (this directory) needs from whoever runs it, beyond the
 * executor's ExecContext: the x87 register file (regs.ts's X87File: FCW, FSW, abridged tags,
 * FOP/FIP/FDP, ST(0)..ST(7) in stack order), CR0 for the #NM and #MF checks, and the segment
 * selectors and bases for the last-instruction pointers. The soft CPU (src/backends/soft) is one
 * such context, the assists' emulator (src/x86/assist) the other.
 *
 * What differs between the two runners beyond state is an X87Platform, passed with each
 * instruction: where FCS/FDS are kept (they are not part of the API state), whether FISTTP
 * exists (CPUID as the guest sees it), and what a pending x87 error does with CR0.NE clear
 * (FERR#, which neither runner models).
 */
import type { ExecContext } from '../exec/context.js';
import type { BlockAccess } from '../exec/block-access.js';
import type { X87File } from './regs.js';

export interface X87Context extends ExecContext, X87File, BlockAccess {
  cr0: number;
  /** Segment selectors, es cs ss ds fs gs at 0..5. */
  readonly segSel: ArrayLike<number>;
  /** Segment bases (signed numbers in long mode), es cs ss ds fs gs at 0..5. */
  readonly segBase: ArrayLike<number>;
}

/** FCS/FDS of the last x87 instruction and operand, and that operand's segment base (real-mode images). */
export interface X87Selectors { fcs: number; fds: number; dsBase: number }

export interface X87Platform {
  /** The runner's FCS/FDS record for ctx (mutable: the layer updates it). */
  selectors(ctx: X87Context): X87Selectors;
  /** FISTTP exists: CPUID.1:ECX.SSE3 as the guest sees it (#UD otherwise). */
  hasFisttp(ctx: X87Context): boolean;
  /**
   * A pending unmasked x87 exception at a waiting instruction with CR0.NE clear: the processor
   * would signal FERR# (IRQ13 on a PC). Throws whatever the runner reports for that.
   */
  unsignalledError(ctx: X87Context, detail: string): never;
}
