/**
 * Guest memory as the emulated instruction sees it: segment:offset -> linear (segmentation) ->
 * GPA (the MMU walker, with CPL and Accessed/Dirty like hardware) -> host bytes when the GPA is
 * RAM. A GPA that is not RAM (or RAM mapped read-only, for a write) is MMIO: the caller routes it
 * to the memory handler. Page tables are read only when a translation is needed (lazily).
 */
import type { Gprs, Segs } from '../../api/types.js';
import { VmmError, hex } from '../../api/errors.js';
import type { GuestCpu } from '../mmu/guest-cpu.js';
import { physMemoryOf, type PhysMemory } from '../mmu/phys-memory.js';
import { ACCESS_FETCH, ACCESS_SET_AD, ACCESS_USER, ACCESS_WRITE, type PagingRegs } from '../mmu/paging-regs.js';
import { walk } from '../mmu/walker.js';
import { AssistFault } from './assist-fault.js';
import { pagingOf, segmentBase, segmentOf } from './cpu-view.js';

const TWO32 = 4294967296;
export const PAGE = 4096;

export interface HostBytes { bytes: Uint8Array; off: number }

export class GuestLinear {
  private paging: PagingRegs | undefined;
  private phys: PhysMemory | undefined;

  constructor(readonly cpu: GuestCpu, private readonly gprs: Gprs, readonly segs: Segs,
    readonly mode: 16 | 32 | 64, readonly cpl: number) {}

  /** Linear address of seg:offset (offset already wrapped to the address size). */
  linear(seg: number, offset: number): number {
    const sum = segmentBase(this.segs, seg, this.mode) + offset;
    if (this.mode !== 64) return sum >>> 0;
    if (sum >= -(2 ** 63) && sum < 2 ** 63) return sum;
    return sum >= 0 ? sum - 2 ** 64 : sum + 2 ** 64;
  }

  /**
   * Segment limit check outside 64-bit mode, as the CPU makes it before the access: an offset
   * range beyond the limit of an expand-up segment (or inside the limit of an expand-down one)
   * raises #SS(0) for SS and #GP(0) otherwise. 64-bit mode has no limits (canonical checks are
   * the walker's).
   */
  checkLimit(seg: number, offset: number, size: number): void {
    if (this.mode === 64) return;
    const s = segmentOf(this.segs, seg);
    const last = offset + size - 1;
    const expandDown = s.s === 1 && (s.type & 0xc) === 0x4;
    const top = s.def ? 0xffffffff : 0xffff;
    const ok = expandDown ? offset > s.limit && last <= top : last <= s.limit;
    if (!ok) {
      const vector = seg === 2 ? 12 : 13;
      throw new AssistFault('EFAULT', `${vector === 12 ? '#SS' : '#GP'}(0): offset ${hex(offset)}+${size} is outside segment ${seg} (limit ${hex(s.limit)}${expandDown ? ', expand-down' : ''})`, vector, 0);
    }
  }

  /** GPA of a linear address for a data write/read or a fetch; AssistFault for #PF/#GP. */
  translate(linear: number, write: boolean, fetch = false): number {
    this.paging ??= pagingOf(this.cpu, this.gprs);
    this.phys ??= physMemoryOf((gpa) => this.cpu.machine.gpaToHost(gpa));
    const hi = Math.floor(linear / TWO32);
    const access = (write ? ACCESS_WRITE : 0) | (fetch ? ACCESS_FETCH : 0) | (this.cpl === 3 ? ACCESS_USER : 0) | ACCESS_SET_AD;
    const r = walk(this.paging, this.phys, hi | 0, (linear - hi * TWO32) >>> 0, access);
    if (!r.ok) throw new AssistFault('EFAULT', r.reason, r.vector, r.vector === 14 ? r.errorCode : 0, linear);
    return r.gpa;
  }

  /** Host bytes of RAM at gpa (valid to the end of gpa's page), or undefined for MMIO. */
  ram(gpa: number, write: boolean): HostBytes | undefined {
    const loc = this.cpu.machine.gpaToHost(gpa);
    if (!loc || (write && !loc.prot.includes('w'))) return undefined;
    return { bytes: loc.memory.bytes, off: loc.offset };
  }

  /**
   * Up to max bytes of code at CS:rip, stopping early at a page that cannot be fetched (the
   * decoder then reports a truncated instruction if it needed them).
   */
  fetch(rip: number, max = 15): Uint8Array {
    const out = new Uint8Array(max);
    let n = 0;
    while (n < max) {
      const lin = this.linear(1, this.mode === 64 ? rip + n : (rip + n) >>> 0);
      let gpa: number;
      try {
        gpa = this.translate(lin, false, true);
      } catch (e) {
        if (n > 0 && e instanceof AssistFault) break;
        throw e;
      }
      const host = this.ram(gpa, false);
      if (!host) {
        if (n > 0) break;
        throw new VmmError('ENOTSUP', `instruction fetch at GVA ${hex(lin)} (GPA ${hex(gpa)}) is not in guest RAM`);
      }
      const len = Math.min(max - n, PAGE - (gpa % PAGE));
      out.set(host.bytes.subarray(host.off, host.off + len), n);
      n += len;
    }
    return out.subarray(0, n);
  }
}
