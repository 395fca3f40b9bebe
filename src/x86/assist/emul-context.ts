/**
 * The ExecContext that assistMem runs one instruction on: registers from a getState snapshot,
 * memory through segmentation + the MMU walker. Each access goes, page by page, to guest RAM or,
 * when its GPA is not RAM (or is read-only RAM and the access writes), to the caller's
 * MemHandler: so MOVS/CMPS between an MMIO page and RAM work, and so does MMIO on both sides.
 *
 * Fast route (direct): for an instruction whose only memory access is its ModRM/moffs operand,
 * every access is the exit's access, so it goes straight to the handler at the exit's GPA (plus
 * the offset from the operand's first byte): no CR/MSR read, no page walk.
 */
import type { MemHandler, Segs } from '../../api/types.js';
import type { ExecContext } from '../exec/context.js';
import { LazyFlags } from '../exec/lazy-flags.js';
import { GuestLinear, PAGE } from './guest-linear.js';
import { stackSizeOf } from './cpu-view.js';

export class EmulContext extends LazyFlags implements ExecContext {
  readonly regs = new Int32Array(34);
  /** The registers as loaded, to write back only what changed. */
  readonly before = new Int32Array(34);
  memHi = 0;
  stackSize: 2 | 4 | 8 = 8;
  cpl = 0;
  repBudget = 0;
  /** When set, every access is the MMIO access at this GPA (fast route). */
  directGpa: number | undefined;
  /** True while an assist is using this context (a handler that re-enters gets a fresh one). */
  busy = false;
  /** The GPA of the exit being emulated, and whether a handler access covered it. */
  private exitGpa = NaN;
  exitGpaAccessed = false;
  private directLinear = NaN;
  private lin!: GuestLinear;
  private handler!: MemHandler;
  private readonly scratch = new Uint8Array(8);
  private readonly view = new DataView(this.scratch.buffer);

  /** Prepares the context for one instruction (contexts are reused: no allocation per assist). */
  reset(lin: GuestLinear, segs: Segs, handler: MemHandler, repBudget: number, exitGpa = NaN): this {
    this.lin = lin;
    this.exitGpa = exitGpa;
    this.exitGpaAccessed = false;
    this.handler = handler;
    this.stackSize = stackSizeOf(segs, lin.mode);
    this.cpl = lin.cpl;
    this.repBudget = repBudget;
    this.directGpa = undefined;
    this.directLinear = NaN;
    this.memHi = 0;
    return this;
  }

  get mode(): 16 | 32 | 64 {
    return this.lin.mode;
  }

  read(seg: number, addr: number, size: 1 | 2 | 4 | 8): number {
    this.lin.checkLimit(seg, addr, size);
    this.access(this.lin.linear(seg, addr), size, false);
    const v = this.view;
    switch (size) {
      case 1: return this.scratch[0]!;
      case 2: return v.getUint16(0, true);
      case 4: return v.getInt32(0, true);
      default:
        this.memHi = v.getInt32(4, true);
        return v.getInt32(0, true);
    }
  }

  write(seg: number, addr: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
    this.view.setInt32(0, lo, true);
    this.view.setInt32(4, hi, true);
    this.lin.checkLimit(seg, addr, size);
    this.access(this.lin.linear(seg, addr), size, true);
  }

  /** Moves size bytes between scratch and guest memory at linear. */
  private access(linear: number, size: number, write: boolean): void {
    if (this.directGpa !== undefined) {
      // The exit's GPA is the operand's first byte only if the page offsets agree and the access
      // stays in one page; otherwise (a page-crossing operand) walk the page tables instead.
      if (Number.isNaN(this.directLinear)) {
        const inPage = ((linear % PAGE) + PAGE) % PAGE;
        if (inPage === this.directGpa % PAGE && inPage + size <= PAGE) this.directLinear = linear;
        else this.directGpa = undefined;
      }
      if (this.directGpa !== undefined) {
        this.toHandler(this.directGpa + (linear - this.directLinear), 0, size, write);
        return;
      }
    }
    let done = 0;
    while (done < size) {
      const at = linear + done;
      const inPage = ((at % PAGE) + PAGE) % PAGE;
      const n = Math.min(size - done, PAGE - inPage);
      const gpa = this.lin.translate(at, write);
      const host = this.lin.ram(gpa, write);
      if (host) {
        if (write) host.bytes.set(this.scratch.subarray(done, done + n), host.off);
        else this.scratch.set(host.bytes.subarray(host.off, host.off + n), done);
      } else this.toHandler(gpa, done, n, write);
      done += n;
    }
  }

  private toHandler(gpa: number, from: number, size: number, write: boolean): void {
    const data = write ? this.scratch.slice(from, from + size) : new Uint8Array(size);
    if (gpa <= this.exitGpa && this.exitGpa < gpa + size) this.exitGpaAccessed = true;
    this.handler({ gpa, write, size, data });
    if (!write) this.scratch.set(data.subarray(0, size), from);
  }
}
