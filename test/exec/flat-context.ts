/**
 * A simple ExecContext over one flat memory window for the executor tests: segments are
 * ignored (base 0), accesses outside the window raise #PF, and every access is logged.
 */
import type { ExecContext } from '../../src/x86/exec/context.js';
import { RIP_LO, X86Fault } from '../../src/x86/exec/context.js';
import { LazyFlags } from '../../src/x86/exec/lazy-flags.js';

export interface Access { write: boolean; seg: number; addr: number; size: number }

export class FlatContext extends LazyFlags implements ExecContext {
  regs = new Int32Array(34);
  mode: 16 | 32 | 64 = 64;
  stackSize: 2 | 4 | 8 = 8;
  memHi = 0;
  cpl?: number;
  repBudget?: number;
  readonly log: Access[] = [];
  /** Addresses at or above this limit fault too (to test mid-instruction faults). */
  faultFrom = Infinity;
  /** Writes at or above this address fault (reads succeed): a write that fails after its read. */
  writeFaultFrom = Infinity;

  constructor(readonly mem: Uint8Array, readonly base: number) { super(); }

  private offset(addr: number, size: number, write: boolean): number {
    const o = addr - this.base;
    if (o < 0 || o + size > this.mem.length || addr + size > this.faultFrom || (write && addr + size > this.writeFaultFrom)) {
      throw new X86Fault(14, write ? 2 : 0, `flat context: ${write ? 'write' : 'read'} at 0x${addr.toString(16)}`);
    }
    return o;
  }

  read(seg: number, addr: number, size: 1 | 2 | 4 | 8): number {
    const o = this.offset(addr, size, false);
    this.log.push({ write: false, seg, addr, size });
    const m = this.mem;
    switch (size) {
      case 1: return m[o];
      case 2: return m[o] | (m[o + 1] << 8);
      case 4: return m[o] | (m[o + 1] << 8) | (m[o + 2] << 16) | (m[o + 3] << 24);
      default:
        this.memHi = m[o + 4] | (m[o + 5] << 8) | (m[o + 6] << 16) | (m[o + 7] << 24);
        return m[o] | (m[o + 1] << 8) | (m[o + 2] << 16) | (m[o + 3] << 24);
    }
  }

  write(seg: number, addr: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
    const o = this.offset(addr, size, true);
    this.log.push({ write: true, seg, addr, size });
    const m = this.mem;
    for (let i = 0; i < Math.min(size, 4); i++) m[o + i] = lo >>> (8 * i);
    for (let i = 4; i < size; i++) m[o + i] = hi >>> (8 * (i - 4));
  }

  /** Register n (0..15, 16 = RIP) as an unsigned bigint. */
  get(n: number): bigint {
    return (BigInt(this.regs[2 * n + 1] >>> 0) << 32n) | BigInt(this.regs[2 * n] >>> 0);
  }

  set(n: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.regs[2 * n] = Number(u & 0xffffffffn) | 0;
    this.regs[2 * n + 1] = Number(u >> 32n) | 0;
  }

  get rip(): bigint { return this.get(RIP_LO / 2); }
  set rip(v: bigint) { this.set(RIP_LO / 2, v); }
}
