/**
 * A VectorContext for the SSE/MMX tests: the executor tests' flat memory window plus XMM, the
 * x87 registers (MMX), FSW/FTW and CR0/CR4 (SSE enabled: CR0.MP|NE, CR4.OSFXSR).
 */
import type { VectorContext } from '../../src/x86/sse/index.js';
import { FlatContext } from '../exec/flat-context.js';

export class FlatVectorContext extends FlatContext implements VectorContext {
  readonly xmm: Uint8Array[] = Array.from({ length: 16 }, () => new Uint8Array(16));
  readonly st: Uint8Array[] = Array.from({ length: 8 }, () => new Uint8Array(10));
  fsw = 0;
  ftw = 0;
  mxcsr = 0x1f80;
  cr0 = 0x80000033;
  cr4 = 0x620;

  get top(): number { return (this.fsw >> 11) & 7; }
  /** MMX register i as the x87 stack currently holds it (physical i = ST((i - TOP) & 7)). */
  mm(i: number): Uint8Array { return this.st[(i - this.top) & 7]!.subarray(0, 8); }
}
