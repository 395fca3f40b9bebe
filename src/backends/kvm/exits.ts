/**
 * kvm_run exit reason -> VmExit, one handler per reason (a table). A handler returns undefined
 * for exits the backend absorbs (the run loop then re-enters the guest).
 *
 * RIP, RFLAGS, the segment/control registers and the interrupt shadow come from the registers
 * KVM syncs into kvm_run at every exit (no ioctl on the hot path).
 *
 * io: kvm_run gives port, direction, size and count but not whether the instruction was a
 * string one. The backend reads the instruction at CS:RIP (through the guest's page tables) to
 * get its length (npc) and REP/string prefixes. data holds all count*size bytes of the transfer
 * (count > 1 only for string I/O, which KVM batches) and aliases KVM's buffer: for IN the caller
 * fills it and the next run() completes the instruction. Hosts that emulate port I/O (the PVM
 * module here; found by probe.ts) report OUT exits with RIP already past the instruction: npc
 * is then RIP itself, and the OUT is reported as non-string unless a REP OUTS is still going
 * (RIP stays on it while RCX != 0), so the last element of a REP OUTS shows str/rep false there.
 *
 * memory: KVM emulates the instruction in the kernel; data aliases kvm_run.mmio.data (fill it
 * for a read). instBytes are the bytes at CS:RIP for reads (RIP is still at the instruction);
 * for writes KVM has already moved RIP on, so instBytes is empty.
 */
import type { ExitState, IoExit, MemoryExit, VmExit } from '../../api/types.js';
import { KVM_EXIT, KVM_EXIT_IO_IN, KVM_INTERNAL_ERROR } from './ioctls.js';
import { EVENTS, REGS_RFLAGS, REGS_RIP, RUN, SEGMENT, SREGS } from './structs.js';
import type { PagingRegs, PhysMemory } from '../../x86/mmu/index.js';
import { decodeIoInsn, decodeMsrInsn } from './exit-insn.js';
import type { ExitInsn } from './exit-insn.js';
import { machinePhysMemory, readGuestLinear } from './guest-fetch.js';
import type { HostSpan } from './guest-fetch.js';
import { eventInFlight } from './events.js';
import type { KvmVcpu } from './vcpu.js';

type Handler = (d: ExitDecoder) => VmExit | undefined;

const EFER_LMA = 1 << 10;
const EXIT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(KVM_EXIT).map(([k, v]) => [v, k]));

const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [KVM_EXIT.IO, (d) => d.io()],
  [KVM_EXIT.MMIO, (d) => d.mmio()],
  [KVM_EXIT.HLT, (d) => d.simple('halted')],
  [KVM_EXIT.SHUTDOWN, (d) => d.simple('shutdown')],
  [KVM_EXIT.IRQ_WINDOW_OPEN, (d) => d.vcpu.events.onIrqWindow()],
  [KVM_EXIT.SET_TPR, (d) => d.tpr()],
  [KVM_EXIT.INTR, () => undefined],
  [KVM_EXIT.X86_RDMSR, (d) => d.msr(false)],
  [KVM_EXIT.X86_WRMSR, (d) => d.msr(true)],
  [KVM_EXIT.INTERNAL_ERROR, (d) => d.internalError()],
  [KVM_EXIT.FAIL_ENTRY, (d) => d.invalid(`VM entry failed: hardware entry failure reason ${hexq(d.u64(RUN.failEntryReason))}`)],
  [KVM_EXIT.SYSTEM_EVENT, (d) => d.systemEvent()],
]);

export class ExitDecoder {
  readonly vcpu: KvmVcpu;
  private readonly rv: DataView;
  private readonly runBytes: Uint8Array;
  private readonly phys: PhysMemory;
  private readonly insn = new Uint8Array(15);
  /** data views into kvm_run, reused while offset and length stay the same. */
  private ioData: Uint8Array = new Uint8Array(0);
  private ioDataKey = -1;
  private mmioData: Uint8Array[] = [];

  constructor(vcpu: KvmVcpu) {
    this.vcpu = vcpu;
    this.rv = vcpu.run_.view;
    this.runBytes = vcpu.run_.bytes;
    this.phys = machinePhysMemory(vcpu.machine);
    this.syncEvents = new DataView(this.rv.buffer, this.rv.byteOffset + RUN.syncEvents, 64);
    this.outAdvancesRip = vcpu.outAdvancesRip;
  }

  /** The kvm_vcpu_events KVM copies into kvm_run at every exit. */
  private readonly syncEvents: DataView;

  decode(): VmExit | undefined {
    const reason = this.rv.getUint32(RUN.exitReason, true);
    const handler = HANDLERS.get(reason);
    if (handler) return handler(this);
    return this.invalid(`unhandled KVM exit reason ${reason} (${EXIT_NAMES[reason] ?? 'unknown'})` +
      (reason === KVM_EXIT.EXCEPTION ? `: exception ${this.rv.getUint32(RUN.exceptionNr, true)}` : ''));
  }

  u64(off: number): bigint {
    return this.rv.getBigUint64(off, true);
  }

  exitState(): ExitState {
    const rv = this.rv;
    const ev = this.syncEvents;
    const events = this.vcpu.events;
    return {
      rflags: BigInt(rv.getUint32(RUN.syncRegs + REGS_RFLAGS, true)),
      cr8: BigInt(rv.getUint32(RUN.cr8, true)),
      intShadow: ev.getUint8(EVENTS.intShadow) !== 0,
      intWindowExiting: events.intWindowExiting,
      nmiWindowExiting: events.nmiWindowExiting,
      evtPending: events.held() || eventInFlight(ev) || ev.getUint8(EVENTS.nmiPending) !== 0,
    };
  }

  simple(reason: 'halted' | 'shutdown' | 'int-ready' | 'nmi-ready' | 'stopped'): VmExit {
    return { reason, exitState: this.exitState() };
  }

  invalid(detail: string): VmExit {
    return { reason: 'invalid', detail: `${detail} (RIP ${hexq(this.u64(RUN.syncRegs + REGS_RIP))})`, exitState: this.exitState() };
  }

  io(): IoExit {
    const rv = this.rv;
    const isIn = rv.getUint8(RUN.ioDirection) === KVM_EXIT_IO_IN;
    const size = rv.getUint8(RUN.ioSize);
    const count = rv.getUint32(RUN.ioCount, true);
    const offset = rv.getUint32(RUN.ioDataOffset, true); // within the kvm_run mapping: < 2^32
    const length = size * count;
    const key = offset * 65536 + length;
    if (key !== this.ioDataKey) {
      this.ioData = this.runBytes.subarray(offset, offset + length);
      this.ioDataKey = key;
    }
    let insn = this.ioInsnAtRip(isIn);
    if (!isIn && insn && this.outAdvancesRip && !(insn.rep && this.rcxLow() !== 0)) {
      // RIP is already past this OUT: what sits there is the next instruction (which may be
      // another OUT). Only a REP OUTS with RCX left is still at its own address.
      insn = undefined;
    }
    this.vcpu.completionPending = true;
    return {
      reason: 'io', port: rv.getUint16(RUN.ioPort, true), in: isIn, size, data: this.ioData,
      rep: insn ? insn.rep : count > 1, str: insn ? insn.str : count > 1,
      npc: this.npc(insn ? insn.length : 0), backendCompletes: true, exitState: this.exitState(),
    };
  }

  mmio(): MemoryExit {
    const rv = this.rv;
    const len = rv.getUint32(RUN.mmioLen, true);
    const write = rv.getUint8(RUN.mmioIsWrite) !== 0;
    const data = this.mmioData[len] ??= this.runBytes.subarray(RUN.mmioData, RUN.mmioData + len);
    const instBytes = write ? new Uint8Array(0) : this.insn.slice(0, this.fetchAtRip());
    this.vcpu.completionPending = true;
    return {
      reason: 'memory', gpa: Number(rv.getBigUint64(RUN.mmioPhysAddr, true)), write, size: len,
      prot: write ? 'w' : 'r', instBytes, data, backendCompletes: true, exitState: this.exitState(),
    };
  }

  msr(write: boolean): VmExit {
    const rv = this.rv;
    const msr = rv.getUint32(RUN.msrIndex, true);
    const got = this.fetchAtRip();
    const insn = decodeMsrInsn(this.insn.subarray(0, got), this.longCode(), write ? 0x30 : 0x32);
    const npc = this.npc(insn ? insn.length : 2);
    // Unless the caller sets the registers itself, KVM completes RDMSR with 0 and WRMSR as accepted.
    rv.setUint8(RUN.msrError, 0);
    this.vcpu.completionPending = true;
    if (!write) {
      rv.setBigUint64(RUN.msrData, 0n, true);
      return { reason: 'rdmsr', msr, npc, exitState: this.exitState() };
    }
    return { reason: 'wrmsr', msr, value: rv.getBigUint64(RUN.msrData, true), npc, exitState: this.exitState() };
  }

  /** KVM_EXIT_SET_TPR: the guest lowered CR8 (hosts that intercept CR8 writes). */
  tpr(): VmExit | undefined {
    return this.tprChanged();
  }

  /**
   * A tpr-changed exit when configured and CR8 differs from the last value reported or set,
   * else undefined. KVM exits by itself only when the guest lowers CR8 (and only where CR8
   * writes are intercepted); other changes are noticed here at the guest's next exit.
   */
  tprChanged(): VmExit | undefined {
    const cr8 = this.rv.getUint32(RUN.cr8, true);
    if (!this.vcpu.tprExit || cr8 === this.vcpu.lastCr8) return undefined;
    this.vcpu.lastCr8 = cr8;
    return { reason: 'tpr-changed', cr8: BigInt(cr8), exitState: this.exitState() };
  }

  internalError(): VmExit {
    const rv = this.rv;
    const sub = rv.getUint32(RUN.internalSuberror, true);
    const ndata = Math.min(rv.getUint32(RUN.internalNdata, true), 16);
    const words: string[] = [];
    for (let i = 0; i < ndata; i++) words.push(hexq(this.u64(RUN.internalData + i * 8)));
    let detail = `KVM internal error ${sub} (${KVM_INTERNAL_ERROR[sub] ?? 'unknown suberror'})`;
    if (words.length) detail += `, data [${words.join(' ')}]`;
    if (sub === 1 && (rv.getBigUint64(RUN.emulationFlags, true) & 1n) && ndata >= 2) {
      const n = Math.min(rv.getUint8(RUN.emulationInsnSize), 15);
      const bytes = [...this.runBytes.subarray(RUN.emulationInsnBytes, RUN.emulationInsnBytes + n)];
      detail += `, instruction bytes ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
    }
    return this.invalid(detail);
  }

  systemEvent(): VmExit {
    const type = this.rv.getUint32(RUN.systemEventType, true);
    if (type === 1 || type === 2) return this.simple('shutdown'); // KVM_SYSTEM_EVENT_SHUTDOWN / RESET
    return this.invalid(`KVM system event ${type}`);
  }

  /** The I/O instruction at CS:RIP, or undefined when the bytes there are not one. */
  private ioInsnAtRip(isIn: boolean): ExitInsn | undefined {
    const got = this.fetchAtRip();
    return got > 0 ? decodeIoInsn(got === 15 ? this.insn : this.insn.subarray(0, got), this.longCode(), isIn) : undefined;
  }

  private readonly span: HostSpan = { bytes: new Uint8Array(0), offset: 0, n: 0 };
  /**
   * A one-entry translation cache for the code page at CS:RIP: a guest exiting in a loop exits
   * from the same page every time. Keyed by the linear page, CR3, CR0, CR4 and EFER, so any
   * paging change the guest makes through those is seen; only an edit of the page tables that
   * remaps that code page without touching CR3 could go unnoticed.
   */
  private readonly codePage = {
    valid: false, pageHi: 0, pageLo: 0, cr3Lo: 0, cr3Hi: 0, cr0: 0, cr4: 0, efer: 0, host: new Uint8Array(0), offset: 0,
  };

  private readonly outAdvancesRip: boolean;

  /** Low 32 bits of RCX at the exit (REP count). */
  private rcxLow(): number {
    return this.rv.getUint32(RUN.syncRegs + 2 * 8 /* rcx */, true);
  }

  /**
   * RIP + length as the CPU computes the next RIP: unsigned 64-bit in 64-bit code; outside it EIP
   * wraps at 32 bits, and 16-bit code (CS.D clear) keeps IP in 16 bits, as the soft CPU does.
   */
  private npc(length: number): bigint {
    const next = this.u64(RUN.syncRegs + REGS_RIP) + BigInt(length);
    if (this.longCode()) return BigInt.asUintN(64, next);
    const sixteen = this.rv.getUint8(RUN.syncSregs + SREGS.cs + SEGMENT.db) === 0 && next - BigInt(length) < 0x10000n;
    return next & (sixteen ? 0xffffn : 0xffffffffn);
  }

  /** 64-bit code: long mode active and CS.L. */
  private longCode(): boolean {
    const rv = this.rv;
    return (rv.getUint32(RUN.syncSregs + SREGS.efer, true) & EFER_LMA) !== 0 &&
      rv.getUint8(RUN.syncSregs + SREGS.cs + SEGMENT.l) !== 0;
  }

  /** Reads up to 15 bytes at CS:RIP into this.insn; returns how many were readable. */
  private fetchAtRip(): number {
    const rv = this.rv;
    const sr = RUN.syncSregs;
    const cr0 = rv.getUint32(sr + SREGS.cr0, true) | 0, cr4 = rv.getUint32(sr + SREGS.cr4, true) | 0;
    const efer = rv.getUint32(sr + SREGS.efer, true) | 0;
    const cr3Lo = rv.getUint32(sr + SREGS.cr3, true), cr3Hi = rv.getUint32(sr + SREGS.cr3 + 4, true) | 0;
    const ripLo = rv.getUint32(RUN.syncRegs + REGS_RIP, true), ripHi = rv.getUint32(RUN.syncRegs + REGS_RIP + 4, true);
    let hi = ripHi | 0, lo = ripLo;
    if (!(efer & EFER_LMA) || !rv.getUint8(sr + SREGS.cs + SEGMENT.l)) {
      // Outside 64-bit code the CS base applies and addresses wrap at 4 GiB.
      hi = 0;
      lo = (rv.getUint32(sr + SREGS.cs + SEGMENT.base, true) + ripLo) >>> 0;
    }
    const inPage = lo & 0xfff, pageLo = (lo - inPage) >>> 0;
    const c = this.codePage;
    if (c.valid && inPage <= 4096 - 15 && c.pageLo === pageLo && c.pageHi === hi && c.cr3Lo === cr3Lo &&
        c.cr3Hi === cr3Hi && c.cr0 === cr0 && c.cr4 === cr4 && c.efer === efer) {
      this.insn.set(c.host.subarray(c.offset + inPage, c.offset + inPage + 15));
      return 15;
    }
    const regs: PagingRegs = {
      cr0, cr3Lo, cr3Hi, cr4, efer, rflags: rv.getUint32(RUN.syncRegs + REGS_RFLAGS, true) | 0, maxPhyAddr: 52,
    };
    const got = readGuestLinear(this.vcpu.machine, this.phys, regs, hi, lo, this.insn, this.span);
    const start = this.span.offset - inPage;
    c.valid = this.span.n > 0 && start >= 0 && start + 4096 <= this.span.bytes.length;
    if (c.valid) Object.assign(c, { pageHi: hi, pageLo, cr3Lo, cr3Hi, cr0, cr4, efer, host: this.span.bytes, offset: start });
    return got;
  }
}

function hexq(v: bigint): string {
  return '0x' + v.toString(16);
}
