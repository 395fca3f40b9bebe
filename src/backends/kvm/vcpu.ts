/**
 * A KVM vCPU: its fd, the mmap'd kvm_run page, a native scratch block for the state ioctls, the
 * events held until the guest can take them, and the run loop. Exits are turned into VmExits by
 * exits.ts; state groups are converted by state.ts.
 *
 * Exits that KVM completes itself (io, memory, rdmsr, wrmsr): the next run() finishes the
 * instruction in the kernel (IN/MMIO reads take exit.data, which aliases KVM's buffer; RDMSR
 * takes the value from completeRdmsr(), default 0). A setState() before that run first lets KVM
 * finish the instruction (KVM_RUN with immediate_exit) and then applies the caller's values, so
 * a caller that emulates the instruction itself (NVMM style: registers, RIP = npc) wins.
 */
import { VmmError, hex } from '../../api/errors.js';
import { State } from '../../api/types.js';
import type {
  CpuidConf, TprConf, VcpuEvent, VcpuState, VcpuStateInput, VcpuStopHandle, VmExit,
} from '../../api/types.js';
import type { BackendVcpu } from '../backend.js';
import {
  KVM, KVM_SYNC_X86_EVENTS, KVM_SYNC_X86_REGS, KVM_SYNC_X86_SREGS, KVM_VCPUEVENT_VALID_NMI_PENDING,
  KVM_VCPUEVENT_VALID_SHADOW,
} from './ioctls.js';
import {
  CPUID2, DEBUGREGS_SIZE, EVENTS, EVENTS_SIZE, MSRS, REGS_SIZE, RUN, SREGS, SREGS_SIZE, XCRS,
  XCRS_SIZE, XSAVE_SIZE,
} from './structs.js';
import { EINTR, EAGAIN, MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, errno, nativeView, sys } from './libc.js';
import { check, kvmError, ioctlRetry } from './kvm-error.js';
import { NativeBlock } from './native-block.js';
import type { NativeSlice } from './native-block.js';
import {
  MSR_TABLE, SREGS_CRS, readDrs, readFpu, readGprs, readSegs, writeDrs, writeFpu, writeGprs, writeSegs,
  writeSregsCrs,
} from './state.js';
import { CpuidTable } from './cpuid.js';
import { STOP_ALIVE, STOP_FLAG, STOP_SLOTS, STOP_TID, consumeStopSignals, prepareThread, preparedThreadTid } from './stop-signal.js';
import { EventQueue } from './events.js';
import { retireMapping } from './guest-ram.js';
import { ExitDecoder } from './exits.js';
import { probeOutAdvancesRip } from './probe.js';
import type { KvmMachine } from './machine.js';

/** Where each ioctl structure lives in the vCPU's scratch block. */
const AT = {
  regs: 0, sregs: 256, debugregs: 1536, xcrs: 1792, events: 2304, msrs: 2560, sigmask: 3072,
  interrupt: 3104, xsave: 4096, cpuid: 8192,
} as const;
const SCRATCH_SIZE = 65536;
const CPUID_CAPACITY = Math.floor((SCRATCH_SIZE - AT.cpuid - CPUID2.entries) / CPUID2.entrySize);

const CR0_PG = 1n << 31n, EFER_LME = 1n << 8n;

/** The control registers of a kvm_sregs image, for messages. */
function controlsText(sv: DataView): string {
  const v = (n: 'cr0' | 'cr3' | 'cr4' | 'efer'): string => hex(sv.getBigUint64(SREGS[n], true));
  return `CR0 ${v('cr0')}, CR3 ${v('cr3')}, CR4 ${v('cr4')}, EFER ${v('efer')}`;
}

export class KvmVcpu implements BackendVcpu {
  readonly id: number;
  readonly machine: KvmMachine;
  readonly fd: number;
  /** kvm_run, shared with the kernel. */
  readonly run_: NativeSlice;
  private readonly runSize: number;
  private readonly scratch: NativeBlock;
  private readonly s: {
    regs: NativeSlice; sregs: NativeSlice; debugregs: NativeSlice; xcrs: NativeSlice;
    events: NativeSlice; msrs: NativeSlice; sigmask: NativeSlice; xsave: NativeSlice; cpuid: NativeSlice;
  };
  private readonly stopShared = new SharedArrayBuffer(STOP_SLOTS * 4);
  private readonly stopFlags = new Int32Array(this.stopShared);
  private readonly cpuid: CpuidTable;
  readonly events: EventQueue;
  private readonly exits: ExitDecoder;
  private threadTid = 0;
  /** KVM will finish the last exit's instruction on the next KVM_RUN. */
  completionPending = false;
  tprExit = false;
  /** CR8 as last reported in a tpr-changed exit or set by the caller. */
  lastCr8 = 0;
  /** An exit held back while a tpr-changed exit noticed with it is returned first. */
  private deferred: VmExit | undefined;
  /** This host reports OUT exits with RIP past the instruction (probe.ts). */
  readonly outAdvancesRip: boolean;
  private destroyed = false;

  /** probing: a throwaway vCPU of probe.ts itself (it must not probe again). */
  constructor(machine: KvmMachine, id: number, probing = false) {
    this.machine = machine;
    this.id = id;
    this.fd = check(`KVM_CREATE_VCPU ${id}`, ioctlRetry(machine.fd, KVM.CREATE_VCPU, id));
    try {
      this.runSize = machine.system.vcpuMmapSize;
      const runAddr = sys.mmap(null, this.runSize, PROT_READ | PROT_WRITE, MAP_SHARED, this.fd, 0);
      if (runAddr === MAP_FAILED || runAddr === 0n) throw kvmError(`mmap of kvm_run for vCPU ${id}`);
      const runBytes = nativeView(runAddr, this.runSize);
      this.run_ = { addr: runAddr, bytes: runBytes, view: new DataView(runBytes.buffer, runBytes.byteOffset, this.runSize) };
    } catch (e) {
      sys.close(this.fd);
      throw e;
    }
    this.scratch = NativeBlock.take(SCRATCH_SIZE);
    const b = this.scratch;
    this.s = {
      regs: b.sub(AT.regs, REGS_SIZE), sregs: b.sub(AT.sregs, SREGS_SIZE),
      debugregs: b.sub(AT.debugregs, DEBUGREGS_SIZE), xcrs: b.sub(AT.xcrs, XCRS_SIZE),
      events: b.sub(AT.events, EVENTS_SIZE), msrs: b.sub(AT.msrs, MSRS.entries + 16 * MSRS.entrySize),
      sigmask: b.sub(AT.sigmask, 12), xsave: b.sub(AT.xsave, XSAVE_SIZE), cpuid: b.sub(AT.cpuid, SCRATCH_SIZE - AT.cpuid),
    };
    // Registers, segments/CRs and pending events are copied into kvm_run at every exit, so an
    // exit's RIP, RFLAGS and interrupt shadow cost no extra ioctl.
    this.run_.view.setBigUint64(RUN.validRegs, BigInt(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS), true);
    this.cpuid = new CpuidTable(machine.system, id);
    this.loadCpuid();
    this.events = new EventQueue(this);
    this.outAdvancesRip = probing ? false : probeOutAdvancesRip(machine.system);
    this.exits = new ExitDecoder(this);
    Atomics.store(this.stopFlags, STOP_ALIVE, 1);
  }

  // ---- ioctl helpers -------------------------------------------------------------------------

  ioctlAt(what: string, request: number, slice: NativeSlice): void {
    if (ioctlRetry(this.fd, request, slice.addr) < 0) throw kvmError(`${what} (vCPU ${this.id})`);
  }

  getEvents(): DataView {
    this.ioctlAt('KVM_GET_VCPU_EVENTS', KVM.GET_VCPU_EVENTS, this.s.events);
    return this.s.events.view;
  }

  /** Writes back the events structure last read by getEvents() (nmi.pending and the shadow kept). */
  setEvents(): void {
    const v = this.s.events.view;
    v.setUint32(EVENTS.flags, KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW, true);
    this.ioctlAt('KVM_SET_VCPU_EVENTS', KVM.SET_VCPU_EVENTS, this.s.events);
  }

  private loadCpuid(): void {
    if (this.cpuid.count > CPUID_CAPACITY) {
      throw new VmmError('E2BIG', `kvm: ${this.cpuid.count} CPUID entries exceed the ${CPUID_CAPACITY} this backend passes`);
    }
    this.cpuid.write(this.s.cpuid.view);
    if (ioctlRetry(this.fd, KVM.SET_CPUID2, this.s.cpuid.addr) < 0) {
      const err = errno();
      if (err === 16 /* EBUSY */ || err === 22 /* EINVAL */) {
        throw new VmmError('EBUSY', `kvm: vCPU ${this.id}: CPUID can only be changed before the first run() (KVM_SET_CPUID2: errno ${err})`);
      }
      throw kvmError('KVM_SET_CPUID2', err);
    }
  }

  /** Lets KVM finish the last exit's instruction without entering the guest. */
  flushCompletion(): void {
    if (!this.completionPending) return;
    this.completionPending = false;
    const v = this.run_.view;
    v.setUint8(RUN.immediateExit, 1);
    const rc = sys.ioctl(this.fd, KVM.RUN, 0);
    const err = rc < 0 ? errno() : 0;
    v.setUint8(RUN.immediateExit, 0);
    if (rc < 0 && err !== EINTR && err !== EAGAIN) throw kvmError('KVM_RUN (completing the last exit)', err);
    if (rc < 0) consumeStopSignals();
  }

  // ---- state ---------------------------------------------------------------------------------

  getState(flags: number): Partial<VcpuState> {
    this.live();
    const out: Partial<VcpuState> = {};
    if (flags & State.GPRS) {
      this.ioctlAt('KVM_GET_REGS', KVM.GET_REGS, this.s.regs);
      out.gprs = readGprs(this.s.regs.view, 0);
    }
    if (flags & (State.SEGS | State.CRS | State.MSRS)) this.ioctlAt('KVM_GET_SREGS', KVM.GET_SREGS, this.s.sregs);
    const sv = this.s.sregs.view;
    if (flags & State.SEGS) out.segs = readSegs(sv, 0);
    if (flags & State.CRS) {
      out.crs = {
        cr0: sv.getBigUint64(SREGS.cr0, true), cr2: sv.getBigUint64(SREGS.cr2, true), cr3: sv.getBigUint64(SREGS.cr3, true),
        cr4: sv.getBigUint64(SREGS.cr4, true), cr8: sv.getBigUint64(SREGS.cr8, true), xcr0: this.getXcr0(),
      };
    }
    if (flags & State.DRS) {
      this.ioctlAt('KVM_GET_DEBUGREGS', KVM.GET_DEBUGREGS, this.s.debugregs);
      out.drs = readDrs(this.s.debugregs.view);
    }
    if (flags & State.MSRS) {
      const values = this.msrAccess(false);
      const msrs = { efer: sv.getBigUint64(SREGS.efer, true) } as VcpuState['msrs'];
      MSR_TABLE.forEach(([name], i) => { msrs[name] = values[i]!; });
      out.msrs = msrs;
    }
    if (flags & State.INTR) out.intr = this.events.intrState(this.getEvents());
    if (flags & State.FPU) {
      this.ioctlAt('KVM_GET_XSAVE', KVM.GET_XSAVE, this.s.xsave);
      out.fpu = readFpu(this.s.xsave.view);
    }
    return out;
  }

  setState(state: VcpuStateInput, flags: number): void {
    this.live();
    this.flushCompletion();
    this.events.stateChanged();
    if (state.gprs && (flags & State.GPRS)) {
      this.ioctlAt('KVM_GET_REGS', KVM.GET_REGS, this.s.regs);
      writeGprs(this.s.regs.view, 0, state.gprs);
      this.ioctlAt('KVM_SET_REGS', KVM.SET_REGS, this.s.regs);
    }
    const segs = flags & State.SEGS ? state.segs : undefined;
    const crs = flags & State.CRS ? state.crs : undefined;
    const msrs = flags & State.MSRS ? state.msrs : undefined;
    if (crs?.xcr0 !== undefined) this.setXcr0(crs.xcr0);
    if (segs || (crs && SREGS_CRS.some((n) => crs[n] !== undefined)) || msrs?.efer !== undefined) {
      // Segments, CR0-CR8 and EFER go in one KVM_SET_SREGS: KVM checks them for consistency together.
      this.ioctlAt('KVM_GET_SREGS', KVM.GET_SREGS, this.s.sregs);
      const sv = this.s.sregs.view;
      if (segs) writeSegs(sv, 0, segs);
      if (crs) writeSregsCrs(sv, 0, crs);
      if (crs?.cr8 !== undefined) this.lastCr8 = Number(crs.cr8 & 0xfn);
      if (msrs?.efer !== undefined) sv.setBigUint64(SREGS.efer, BigInt.asUintN(64, msrs.efer), true);
      this.s.sregs.bytes.fill(0, SREGS.interruptBitmap, SREGS.interruptBitmap + 32);
      if (ioctlRetry(this.fd, KVM.SET_SREGS, this.s.sregs.addr) < 0) {
        // KVM answers a refused combination with a bare EINVAL: the message names what was asked for.
        const err = errno();
        throw kvmError(`KVM_SET_SREGS (${controlsText(sv)}) (vCPU ${this.id})`, err);
      }
      const cr0 = sv.getBigUint64(SREGS.cr0, true);
      if ((cr0 & CR0_PG) !== 0n && (sv.getBigUint64(SREGS.efer, true) & EFER_LME) === 0n) this.checkPagingKept(cr0);
    }
    if (msrs && MSR_TABLE.some(([n]) => msrs[n] !== undefined)) this.msrAccess(true, msrs);
    if (state.drs && (flags & State.DRS)) {
      this.ioctlAt('KVM_GET_DEBUGREGS', KVM.GET_DEBUGREGS, this.s.debugregs);
      writeDrs(this.s.debugregs.view, state.drs);
      this.ioctlAt('KVM_SET_DEBUGREGS', KVM.SET_DEBUGREGS, this.s.debugregs);
    }
    if (state.intr && (flags & State.INTR)) this.events.setIntr(state.intr);
    if (state.fpu && (flags & State.FPU)) {
      const mask = state.fpu.mxcsrMask;
      if (mask !== undefined && mask !== this.mxcsrMask()) {
        throw new VmmError('EINVAL', `kvm: mxcsrMask is fixed by the CPU (${hex(this.mxcsrMask())}), cannot set ${hex(mask)}`);
      }
      this.ioctlAt('KVM_GET_XSAVE', KVM.GET_XSAVE, this.s.xsave);
      writeFpu(this.s.xsave.view, state.fpu);
      this.ioctlAt('KVM_SET_XSAVE', KVM.SET_XSAVE, this.s.xsave);
    }
  }

  /**
   * Some hosts accept CR0.PG outside long mode (32-bit or PAE paging) in KVM_SET_SREGS and drop it
   * (the PVM module runs 64-bit guests only): refused here, not left to a guest running unpaged.
   */
  private checkPagingKept(asked: bigint): void {
    this.ioctlAt('KVM_GET_SREGS', KVM.GET_SREGS, this.s.sregs);
    const now = this.s.sregs.view.getBigUint64(SREGS.cr0, true);
    if ((now & CR0_PG) === 0n) {
      throw new VmmError('ENOTSUP', `kvm: this host does not keep paging outside long mode: CR0 ${hex(asked)} was set, ${hex(now)} reads back (32-bit/PAE paging unsupported here)`);
    }
  }

  private getXcr0(): bigint {
    this.ioctlAt('KVM_GET_XCRS', KVM.GET_XCRS, this.s.xcrs);
    const v = this.s.xcrs.view;
    const n = v.getUint32(XCRS.nr, true);
    for (let i = 0; i < n; i++) {
      const o = XCRS.entries + i * XCRS.entrySize;
      if (v.getUint32(o, true) === 0) return v.getBigUint64(o + XCRS.entryValue, true);
    }
    return 1n;
  }

  private setXcr0(value: bigint): void {
    const v = this.s.xcrs.view;
    this.s.xcrs.bytes.fill(0);
    v.setUint32(XCRS.nr, 1, true);
    v.setUint32(XCRS.entries, 0, true);
    v.setBigUint64(XCRS.entries + XCRS.entryValue, BigInt.asUintN(64, value), true);
    this.ioctlAt(`KVM_SET_XCRS (xcr0 = ${hex(value)})`, KVM.SET_XCRS, this.s.xcrs);
  }

  /** KVM_GET_MSRS / KVM_SET_MSRS over MSR_TABLE (only the fields present when writing). */
  private msrAccess(write: boolean, values?: Partial<VcpuState['msrs']>): bigint[] {
    const v = this.s.msrs.view;
    let n = 0;
    const names: string[] = [];
    for (const [name, index] of MSR_TABLE) {
      const val = values?.[name];
      if (write && val === undefined) continue;
      const o = MSRS.entries + n * MSRS.entrySize;
      v.setUint32(o, index, true);
      v.setUint32(o + 4, 0, true);
      v.setBigUint64(o + MSRS.entryData, write ? BigInt.asUintN(64, val!) : 0n, true);
      names.push(name);
      n++;
    }
    v.setUint32(MSRS.n, n, true);
    const done = ioctlRetry(this.fd, write ? KVM.SET_MSRS : KVM.GET_MSRS, this.s.msrs.addr);
    if (done < 0) throw kvmError(write ? 'KVM_SET_MSRS' : 'KVM_GET_MSRS');
    if (done !== n) {
      const name = names[done] as keyof VcpuState['msrs'];
      const value = write ? ` = ${hex(BigInt.asUintN(64, values![name]!))}` : '';
      throw new VmmError('EINVAL', `kvm: vCPU ${this.id}: MSR ${name} (${hex(MSR_TABLE.find(([x]) => x === name)![1])})${value} was refused by KVM`);
    }
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) out.push(v.getBigUint64(MSRS.entries + i * MSRS.entrySize + MSRS.entryData, true));
    return out;
  }

  private mxcsrMaskValue = -1;
  /** MXCSR_MASK from the FXSAVE area of KVM_GET_XSAVE (0 there means the architectural 0xFFBF). */
  mxcsrMask(): number {
    if (this.mxcsrMaskValue < 0) {
      this.ioctlAt('KVM_GET_XSAVE', KVM.GET_XSAVE, this.s.xsave);
      this.mxcsrMaskValue = readFpu(this.s.xsave.view).mxcsrMask;
    }
    return this.mxcsrMaskValue;
  }

  // ---- configuration and events --------------------------------------------------------------

  configureCpuid(leaf: number, conf: CpuidConf): void {
    this.live();
    this.cpuid.configure(leaf, conf);
    this.loadCpuid();
  }

  configureTpr(conf: TprConf): void {
    this.live();
    this.tprExit = conf.exitChanged;
    if (conf.exitChanged) this.lastCr8 = Number(this.getState(State.CRS).crs!.cr8);
  }

  inject(event: VcpuEvent): void {
    this.live();
    this.events.inject(event);
  }

  /** The signal mask KVM uses while this vCPU is in the guest (set once per running thread). */
  private enterThread(): void {
    if (this.threadTid !== 0 && preparedThreadTid() === this.threadTid) return;
    const { tid, runMask } = prepareThread();
    if (tid === this.threadTid) return;
    const v = this.s.sigmask.view;
    v.setUint32(0, 8, true);
    this.s.sigmask.bytes.set(runMask, 4);
    this.ioctlAt('KVM_SET_SIGNAL_MASK', KVM.SET_SIGNAL_MASK, this.s.sigmask);
    this.threadTid = tid;
    Atomics.store(this.stopFlags, STOP_TID, tid);
  }

  exitsSimple(reason: 'int-ready' | 'nmi-ready'): VmExit {
    return this.exits.simple(reason);
  }

  // ---- running -------------------------------------------------------------------------------

  run(maxInstructions?: number): VmExit {
    this.live();
    if (maxInstructions !== undefined && maxInstructions !== Infinity) {
      throw new VmmError('ENOTSUP', `kvm: vCPU ${this.id}: run() with maxInstructions: KVM does not stop after a count of guest instructions (use stop(), or a timer on host time)`);
    }
    this.enterThread();
    const flags = this.stopFlags;
    const fd = this.fd;
    if (this.deferred) {
      const held = this.deferred;
      this.deferred = undefined;
      return held;
    }
    for (;;) {
      if (Atomics.load(flags, STOP_FLAG) !== 0) {
        Atomics.store(flags, STOP_FLAG, 0);
        this.flushCompletion();
        return this.exits.simple('stopped');
      }
      const early = this.events.beforeEntry();
      if (early) return early;
      const rc = sys.ioctl(fd, KVM.RUN, 0);
      this.completionPending = false;
      if (rc < 0) {
        const err = errno();
        if (err === EINTR || err === EAGAIN) {
          consumeStopSignals(); // stop request (the flag is checked above) or a stray signal
          continue;
        }
        return this.exits.invalid(`KVM_RUN failed: ${sys.strerror(err)} (errno ${err})`);
      }
      const exit = this.exits.decode();
      if (this.tprExit && exit && exit.reason !== 'tpr-changed') {
        const tpr = this.exits.tprChanged();
        if (tpr) {
          this.deferred = exit;
          return tpr;
        }
      }
      if (exit) return exit;
    }
  }

  stop(): void {
    this.live();
    Atomics.store(this.stopFlags, STOP_FLAG, 1);
  }

  stopHandle(): VcpuStopHandle {
    this.live();
    return { backend: 'kvm', data: { shared: this.stopShared, pid: process.pid, vcpu: this.id } };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    Atomics.store(this.stopFlags, STOP_ALIVE, 0);
    // Exits' data views alias kvm_run: zero pages replace it, so reading one later cannot crash.
    retireMapping(this.run_.addr, this.runSize);
    NativeBlock.give(this.scratch);
    sys.close(this.fd);
    this.machine.vcpuGone(this);
  }

  private live(): void {
    if (this.destroyed) throw new VmmError('ENOENT', `kvm: vCPU ${this.id} has been destroyed`);
  }
}
