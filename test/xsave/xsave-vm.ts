/**
 * A soft vCPU in 64-bit long mode for the XSAVE tests: runs a few instruction bytes at CODE
 * (ending in OUT 0xf4) with IDT handlers that report the exception vector, and gives the state
 * back. XSAVE areas live at AREA_A/B/C (64-byte aligned).
 */
import { State, type VcpuStateInput } from '../../src/index.js';
import { longMode, setGate64, softVm, type SoftVm } from '../soft/vm.js';

export const CODE = 0x10000, HANDLERS = 0x20000, IDT = 0x40000, AREA_A = 0x30000, AREA_B = 0x31000, AREA_C = 0x32000;
export const CR4_OSXSAVE = 1n << 18n, CR0_TS = 1n << 3n;
/** Bytes that end a test snippet: OUT 0xf4, AL. */
const END = [0xe6, 0xf4];

export interface Outcome { vector: number | undefined }

export class XsaveVm {
  readonly vm: SoftVm = softVm();

  constructor() {
    this.reset();
  }

  /** An IDT at IDT whose handler for vector v is MOV AL, v; OUT 0xe9, AL; OUT 0xf4, AL. */
  private gates(): void {
    for (let v = 0; v < 32; v++) {
      this.vm.ram.set([0xb0, v, 0xe6, 0xe9, ...END], HANDLERS + 16 * v);
      setGate64(this.vm, IDT, v, HANDLERS + 16 * v);
    }
    const segs = this.vm.cpu.getState(State.SEGS).segs!;
    this.vm.cpu.setState({ segs: { idt: { ...segs.idt, base: BigInt(IDT), limit: 32 * 16 - 1 } } });
  }

  /** Resets to 64-bit CPL `cpl` with OSXSAVE (unless told otherwise), then applies `extra`. */
  reset(opts: { cpl?: 0 | 3; osxsave?: boolean; xcr0?: bigint; extra?: VcpuStateInput } = {}): void {
    const cpu = this.vm.cpu;
    const st = longMode(this.vm, CODE, opts.cpl ?? 0);
    cpu.setState(st);
    this.gates();
    const crs = cpu.getState(State.CRS).crs!;
    const cr4 = opts.osxsave === false ? crs.cr4 & ~CR4_OSXSAVE : crs.cr4 | CR4_OSXSAVE;
    cpu.setState({ crs: { cr4, xcr0: opts.xcr0 ?? 3n } });
    // IOPL 3 so that the closing OUT works at CPL 3 too.
    cpu.setState({ gprs: { rflags: cpu.getState(State.GPRS).gprs!.rflags | 0x3000n } });
    if (opts.extra) cpu.setState(opts.extra);
  }

  /** Runs `code` (then OUT 0xf4); vector = the exception it raised, if any. */
  run(code: readonly number[]): Outcome {
    this.vm.ram.set([...code, ...END], CODE);
    let vector: number | undefined;
    for (let n = 0; n < 4; n++) {
      const exit = this.vm.cpu.run();
      if (exit.reason !== 'io') throw new Error(`unexpected exit ${exit.reason}: ${JSON.stringify(exit, (_k, v: unknown) => typeof v === 'bigint' ? v.toString(16) : v)}`);
      if (exit.port === 0xe9) { vector = exit.data[0]; this.vm.cpu.assistIo(exit, () => {}); continue; }
      return { vector };
    }
    throw new Error('no end');
  }

  area(at: number, n = 576): Uint8Array { return this.vm.ram.slice(at, at + n); }
}

/** Instruction bytes (REX.W = 0x48 before the 0F AE forms for the 64 variants). */
export const I = {
  xsave: (rm = 0x27) => [0x0f, 0xae, rm], // [rdi]
  xsave64: (rm = 0x27) => [0x48, 0x0f, 0xae, rm],
  xsaveopt: (rm = 0x37) => [0x0f, 0xae, rm],
  xsaveopt64: (rm = 0x37) => [0x48, 0x0f, 0xae, rm],
  xrstor: (rm = 0x2e) => [0x0f, 0xae, rm], // [rsi]
  xrstor64: (rm = 0x2e) => [0x48, 0x0f, 0xae, rm],
  fxsave64: [0x48, 0x0f, 0xae, 0x03], // [rbx]
  fxsave: [0x0f, 0xae, 0x03],
  xgetbv: [0x0f, 0x01, 0xd0],
  xsetbv: [0x0f, 0x01, 0xd1],
  cpuid: [0x0f, 0xa2],
  movCr4FromRax: [0x0f, 0x22, 0xe0],
  movEax: (v: number) => [0xb8, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff],
  movEdx: (v: number) => [0xba, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff],
} as const;
