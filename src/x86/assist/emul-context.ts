/**
 * The ExecContext that assistMem runs one instruction on: registers from a getState snapshot,
 * memory through segmentation + the MMU walker. Each access goes, page by page, to guest RAM or,
 * when its GPA is not RAM (or is read-only RAM and the access writes), to the caller's
 * MemHandler: so MOVS/CMPS between an MMIO page and RAM work, and so does MMIO on both sides.
 *
 * Every page an access touches is translated before any byte moves, so a #PF on the second page
 * of a crossing access leaves the first untouched (as on hardware).
 *
 * Fast route (direct): for an instruction whose only memory access is its ModRM/moffs operand,
 * every access is the exit's access, so it goes straight to the handler at the exit's GPA (plus
 * the offset from the operand's first byte): no CR/MSR read, no page walk.
 *
 * For x87 and SSE/MMX instructions the context is also their VectorContext and X87Context: the
 * fpu group (fpu-state.ts) is loaded for them only. Their operands wider than 8 bytes move
 * through readBlock/writeBlock: every page translated first, then RAM copied and MMIO sent to
 * the handler in ascending address order as pieces of 8 bytes, the rest in 4, 2, 1 (as KVM's
 * emulator splits such accesses into MMIO exits of at most 8 bytes; devices see sizes they know).
 */
import type { MemHandler, Segs } from '../../api/types.js';
import type { ExecContext } from '../exec/context.js';
import { LazyFlags } from '../exec/lazy-flags.js';
import type { VectorContext } from '../sse/context.js';
import type { X87Context } from '../x87-exec/context.js';
import { GuestLinear, PAGE, type HostBytes } from './guest-linear.js';
import { stackSizeOf } from './cpu-view.js';
import { FpuSnapshot, type FpuFields } from './fpu-state.js';

/** The size of the next handler piece of a block access: 8, 4, 2 or 1 bytes, the largest that fits. */
const pieceSize = (left: number): number => (left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1);

export class EmulContext extends LazyFlags implements ExecContext, VectorContext, X87Context, FpuFields {
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

  // x87/MMX/SSE state (loaded by loadFpu for those instructions only; see fpu-state.ts).
  fcw = 0x37f; fsw = 0; ftw = 0; fop = 0; fip = 0n; fdp = 0n; mxcsr = 0x1f80; mxcsrMask = 0xffbf;
  readonly st: Uint8Array[] = Array.from({ length: 8 }, () => new Uint8Array(10));
  readonly xmm: Uint8Array[] = Array.from({ length: 16 }, () => new Uint8Array(16));
  cr0 = 0; cr4 = 0; xcr0 = 1;
  readonly segSel = [0, 0, 0, 0, 0, 0];
  readonly segBase = [0, 0, 0, 0, 0, 0];
  readonly fpuLoaded = new FpuSnapshot();

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
    this.fpuLoaded.forget();
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
        this.toHandler(this.directGpa + (linear - this.directLinear), this.scratch, 0, size, write);
        return;
      }
    }
    // At most two pages (size <= 8): both translated before either moves a byte.
    const inPage = ((linear % PAGE) + PAGE) % PAGE;
    const n0 = Math.min(size, PAGE - inPage);
    const gpa0 = this.lin.translate(linear, write);
    const gpa1 = n0 < size ? this.lin.translate(linear + n0, write) : NaN;
    this.move(gpa0, this.scratch, 0, n0, write);
    if (n0 < size) this.move(gpa1, this.scratch, n0, size - n0, write);
  }

  /** Moves n bytes between buf[from..] and gpa (within one page): RAM, or the handler. */
  private move(gpa: number, buf: Uint8Array, from: number, n: number, write: boolean, host: HostBytes | undefined = this.lin.ram(gpa, write)): void {
    if (host) {
      if (write) host.bytes.set(buf.subarray(from, from + n), host.off);
      else buf.set(host.bytes.subarray(host.off, host.off + n), from);
    } else this.toHandler(gpa, buf, from, n, write);
  }

  private toHandler(gpa: number, buf: Uint8Array, from: number, size: number, write: boolean): void {
    const data = write ? buf.slice(from, from + size) : new Uint8Array(size);
    if (gpa <= this.exitGpa && this.exitGpa < gpa + size) this.exitGpaAccessed = true;
    this.handler({ gpa, write, size, data });
    if (!write) buf.set(data.subarray(0, size), from);
  }

  // ---- BlockAccess: operands wider than 8 bytes (SSE, x87) ----------------------------------

  readBlock(seg: number, addr: number, out: Uint8Array): void {
    this.block(seg, addr, out, false);
  }

  writeBlock(seg: number, addr: number, bytes: Uint8Array): void {
    this.block(seg, addr, bytes, true);
  }

  private block(seg: number, addr: number, buf: Uint8Array, write: boolean): void {
    const size = buf.length;
    this.lin.checkLimit(seg, addr, size);
    const linear = this.lin.linear(seg, addr);
    const pages: { gpa: number; from: number; n: number; host: HostBytes | undefined }[] = [];
    for (let done = 0; done < size;) {
      const at = linear + done;
      const n = Math.min(size - done, PAGE - (((at % PAGE) + PAGE) % PAGE));
      const gpa = this.lin.translate(at, write);
      pages.push({ gpa, from: done, n, host: this.lin.ram(gpa, write) });
      done += n;
    }
    for (const p of pages) {
      if (p.host) this.move(p.gpa, buf, p.from, p.n, write, p.host);
      else {
        for (let k = 0; k < p.n;) {
          const n = pieceSize(p.n - k);
          this.toHandler(p.gpa + k, buf, p.from + k, n, write);
          k += n;
        }
      }
    }
  }
}
