/**
 * Runs DiffCases on KVM at CPL3: natively with the data page as RAM (CR3 A), then the same
 * instruction through CR3 B where the data page's GVA maps to an unmapped GPA: the first access
 * exits (a real hardware MMIO exit: gpa, size, direction, instBytes), and that exit is completed
 * by our assistMem emulator over a snapshot of the initial state (SnapshotCpu), against a byte
 * device holding the same initial data. Registers, RFLAGS (minus the form's undefined flags),
 * the data page and the RAM buffer are compared.
 *
 * The emulated half runs in-process rather than through cpu.assistMem because KVM completes
 * MMIO instructions in its own kernel emulator (exit.backendCompletes): here we want ours.
 */
import { GPR_NAMES, Hypervisor, State, type Machine, type MemoryExit, type Vcpu, type VcpuStateInput } from '../../../src/index.js';
import { longModeState } from '../../../src/x86/boot-state.js';
import { assistMem } from '../../../src/x86/assist/index.js';
import { ByteDevice } from '../guest-run.js';
import { FakeCpu } from '../fake-cpu.js';
import { DIFF_LAYOUT as L, DONE_INSN, MODE_LAYOUT, type DiffCase, type DiffMode } from './encoder.js';
import { GDT_SELECTORS } from '../../../src/x86/boot-state.js';
import type { Segment } from '../../../src/index.js';

export interface Mismatch { desc: string; what: string }

const PAGE = 4096;

export class DiffMachine {
  private readonly hv: Hypervisor;
  private readonly machine: Machine;
  private readonly cpu: Vcpu;
  private readonly ram: Uint8Array;
  private readonly dataRam: Uint8Array;
  private readonly base: VcpuStateInput;
  private readonly cr3A: bigint;
  private readonly cr3B = BigInt(L.TABLES_B);

  constructor(backend: 'kvm' = 'kvm') {
    this.hv = Hypervisor.open({ backend });
    this.machine = this.hv.createMachine();
    const ram = this.machine.allocate(0x200000);
    const data = this.machine.allocate(PAGE);
    this.machine.map(0, ram);
    this.machine.map(L.DATA_RAM_GPA, data);
    this.ram = ram.bytes;
    this.dataRam = data.bytes;
    this.base = longModeState({ ram: this.ram, ramGpa: 0, tablesGpa: L.TABLES, mapBytes: 4 << 20 }, { entry: L.CODE, stack: L.STACK, cpl: 3 });
    this.cr3A = this.base.crs!.cr3!;
    this.buildTablesB();
    this.cpu = this.machine.createVcpu(0);
    this.cpu.setState(this.base);
  }

  /**
   * CR3 A: identity, with the first 2 MiB in 4 KiB pages so that GVA 0xd000 (the 32-bit data
   * page, reachable by 16-bit addressing) maps to the data page's RAM. CR3 B: the same, except
   * that GVA 0xd000 and GVA 2..4 MiB (the 64-bit data page) map to GPAs with nothing mapped.
   */
  private buildTablesB(): void {
    const v = new DataView(this.ram.buffer, this.ram.byteOffset);
    const a = Number(this.cr3A), b = L.TABLES_B;
    const pt = (at: number, dataGpa: number): void => {
      for (let i = 0; i < 512; i++) v.setUint32(at + 8 * i, (i * PAGE) | 7, true);
      v.setUint32(at + 8 * (MODE_LAYOUT[32].data / PAGE), dataGpa | 7, true);
    };
    pt(L.PT_A, L.DATA_RAM_GPA);
    pt(L.PT_B, L.DATA_MMIO_GPA);
    this.ram.copyWithin(b, a, a + 3 * PAGE);
    v.setUint32(a + 2 * PAGE, L.PT_A | 7, true);       // PD A[0] -> PT A
    v.setUint32(b, (b + PAGE) | 7, true);              // PML4 B[0] -> PDPT B
    v.setUint32(b + PAGE, (b + 2 * PAGE) | 7, true);   // PDPT B[0] -> PD B
    v.setUint32(b + 2 * PAGE, L.PT_B | 7, true);       // PD B[0] -> PT B
    v.setUint32(b + 2 * PAGE + 8, L.DATA_MMIO_GPA | 0x87, true);   // PD B[1]: 2 MiB page at 4 MiB
  }

  /** CS for the case's mode: the 64-bit user code segment, or the 32-bit one (compatibility mode). */
  private codeSegment(mode: DiffMode): Segment {
    const cs = this.base.segs!.cs!;
    return mode === 64 ? cs : { ...cs, selector: GDT_SELECTORS.USER_CODE32, l: 0, def: 1 };
  }

  close(): void {
    this.hv.close();
  }

  private initialState(c: DiffCase, cr3: bigint): VcpuStateInput {
    const gprs: Record<string, bigint> = { rip: BigInt(L.CODE), rflags: c.rflags };
    GPR_NAMES.forEach((n, i) => { gprs[n] = c.gprs[i]!; });
    return { gprs, crs: { cr3 }, segs: { cs: this.codeSegment(c.mode) } };
  }

  private resetMemory(c: DiffCase): void {
    this.dataRam.set(c.dataInit);
    this.ram.set(c.bufInit, MODE_LAYOUT[c.mode].buf);
  }

  /** Runs one case; returns the mismatches (empty when the emulator agrees with the CPU). */
  run(c: DiffCase): Mismatch[] {
    const done = DONE_INSN[c.mode];
    const buf = MODE_LAYOUT[c.mode].buf;
    const code = new Uint8Array([...c.bytes, ...done]);
    this.ram.set(code, L.CODE);
    // Native: setState first (KVM may still finish the previous case's instruction), then memory.
    this.cpu.setState(this.initialState(c, this.cr3A));
    this.resetMemory(c);
    const nat = this.cpu.run();
    if (nat.reason !== 'memory' || nat.gpa !== L.DONE) return [{ desc: c.desc, what: `native run ended with ${describe(nat)}` }];
    const natRegs = this.cpu.getState(State.GPRS).gprs!;
    const natData = this.dataRam.slice(), natBuf = this.ram.slice(buf, buf + PAGE);

    // The hardware MMIO exit through CR3 B.
    this.cpu.setState(this.initialState(c, this.cr3B));
    const mmio = this.cpu.run();
    if (mmio.reason !== 'memory' || mmio.gpa < L.DATA_MMIO_GPA || mmio.gpa >= L.DATA_MMIO_GPA + PAGE) {
      return [{ desc: c.desc, what: `MMIO run exited with ${describe(mmio)} instead of a data-page access` }];
    }
    const exit: MemoryExit = {
      reason: 'memory', gpa: mmio.gpa, write: mmio.write, size: mmio.size, prot: mmio.prot,
      instBytes: mmio.instBytes.slice(), exitState: mmio.exitState,
    };
    // Ours: assistMem over a snapshot of the initial state, RAM = this machine's, data page = device.
    this.resetMemory(c);
    const init = this.initialState(c, this.cr3B);
    const snap = new FakeCpu(this.ram, {
      ...this.base, gprs: { ...this.base.gprs, ...init.gprs }, crs: { ...this.base.crs, ...init.crs }, segs: { ...this.base.segs, ...init.segs },
    },
      (gpa) => this.machine.gpaToHost(gpa));
    const dev = new ByteDevice(L.DATA_MMIO_GPA, c.dataInit);
    try {
      assistMem(snap, exit, dev.handle);
    } catch (e) {
      return [{ desc: c.desc, what: `assistMem threw ${(e as Error).message}` }];
    }
    const out: Mismatch[] = [];
    const emu = snap.gprs;
    for (const n of [...GPR_NAMES, 'rip'] as const) {
      const want = n === 'rip' ? natRegs.rip - BigInt(done.length) : natRegs[n];
      if (emu[n] !== want) out.push({ desc: c.desc, what: `${n}: cpu 0x${want.toString(16)} emulator 0x${emu[n].toString(16)}` });
    }
    const mask = ~BigInt(c.form.undefinedFlags);
    if ((emu.rflags & mask) !== (natRegs.rflags & mask)) {
      out.push({ desc: c.desc, what: `rflags: cpu 0x${natRegs.rflags.toString(16)} emulator 0x${emu.rflags.toString(16)} (undefined mask 0x${c.form.undefinedFlags.toString(16)})` });
    }
    const firstDiff = (a: Uint8Array, b: Uint8Array): number => a.findIndex((x, i) => x !== b[i]);
    const d = firstDiff(natData, dev.bytes);
    if (d >= 0) out.push({ desc: c.desc, what: `data page +0x${d.toString(16)}: cpu 0x${natData[d]!.toString(16)} emulator 0x${dev.bytes[d]!.toString(16)}` });
    const emuBuf = this.ram.subarray(buf, buf + PAGE);
    const e = firstDiff(natBuf, emuBuf);
    if (e >= 0) out.push({ desc: c.desc, what: `RAM buffer +0x${e.toString(16)}: cpu 0x${natBuf[e]!.toString(16)} emulator 0x${emuBuf[e]!.toString(16)}` });
    return out;
  }
}

function describe(exit: { reason: string } & Partial<{ gpa: number; port: number }>): string {
  return `'${exit.reason}'${exit.gpa !== undefined ? ` gpa 0x${exit.gpa.toString(16)}` : ''}`;
}
