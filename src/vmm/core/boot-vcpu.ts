/**
 * The boot vCPU's first state for a LoadPlan entry, and the structures it needs in guest RAM.
 * 64-bit boot protocol (boot.rst): long mode, the first 4 GiB identity-mapped with 2 MiB pages,
 * a GDT whose 0x10 is flat 64-bit code and 0x18 flat data, CS = 0x10, DS = ES = SS = 0x18, IF = 0,
 * RSI = boot_params. PVH: flat 32-bit protected mode, paging off, EBX = hvm_start_info.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { Segment, VcpuStateInput } from '../../api/types.js';
import {
  EFER_LMA, EFER_LME, LONG_MODE_TABLES_SIZE, SEG_TYPE, flat32State, segment, writeIdentityPageTables,
} from '../../x86/boot-state.js';
import type { LoadPlan } from '../loader/plan.js';
import { BOOT_TABLES_GPA, GIB } from './memory-layout.js';

const BOOT_CS = 0x10, BOOT_DS = 0x18;
/** The boot GDT goes right after the page tables (which take 0x6000 of the table area). */
const GDT_OFFSET = 0x6000;
const CR0_PE = 1n, CR0_ET = 0x10n, CR0_NE = 0x20n, CR0_WP = 0x10000n, CR0_PG = 0x80000000n;
const CR4_PAE = 0x20n;
/** Flat 64-bit code (execute/read, accessed, L) and flat data (read/write, accessed, D/B, G). */
const GDT_CODE64 = 0x00af9b000000ffffn, GDT_DATA = 0x00cf93000000ffffn;

/** lowRam: host bytes of guest RAM at GPA 0 (the tables go at BOOT_TABLES_GPA inside it). */
export function bootVcpuState(plan: LoadPlan, lowRam: Uint8Array): VcpuStateInput {
  if (plan.entry.mode === 'pvh') {
    const st = flat32State(plan.entry.rip);
    return { ...st, gprs: { ...st.gprs!, rbx: BigInt(plan.entry.rbx) } };
  }
  if (BOOT_TABLES_GPA + LONG_MODE_TABLES_SIZE > lowRam.length) throw new VmmError('EINVAL', 'guest RAM too small for the boot page tables');
  for (const r of plan.identityMapped) {
    if (r.end > 4 * GIB) throw new VmmError('ENOTSUP', `the kernel needs ${hex(r.start)}..${hex(r.end)} identity-mapped: the boot page tables cover 4 GiB`);
  }
  const cr3 = writeIdentityPageTables({ ram: lowRam, ramGpa: 0, tablesGpa: BOOT_TABLES_GPA, mapBytes: 4 * GIB, user: false });
  const gdtGpa = BOOT_TABLES_GPA + GDT_OFFSET;
  const gdt = new DataView(lowRam.buffer, lowRam.byteOffset + gdtGpa, 0x20);
  gdt.setBigUint64(0, 0n, true);
  gdt.setBigUint64(8, 0n, true);
  gdt.setBigUint64(BOOT_CS, GDT_CODE64, true);
  gdt.setBigUint64(BOOT_DS, GDT_DATA, true);
  const flat = (selector: number, type: number, l: number, def: number): Segment =>
    segment({ selector, base: 0n, limit: 0xffffffff, type, l, def, g: 1 });
  const data = (): Segment => flat(BOOT_DS, SEG_TYPE.DATA_RW_ACCESSED, 0, 1);
  const gprs = {
    rax: 0n, rcx: 0n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, rsi: BigInt(plan.entry.rsi), rdi: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: BigInt(plan.entry.rip), rflags: 0x2n,
  };
  return {
    gprs,
    segs: {
      cs: flat(BOOT_CS, SEG_TYPE.CODE_RX_ACCESSED, 1, 0), ds: data(), es: data(), ss: data(), fs: data(), gs: data(),
      gdt: segment({ selector: 0, base: BigInt(gdtGpa), limit: 0x1f, type: 0, s: 0 }),
      idt: segment({ selector: 0, base: 0n, limit: 0, type: 0, s: 0 }),
      ldt: segment({ selector: 0, base: 0n, limit: 0, type: SEG_TYPE.LDT, s: 0, p: 0 }),
      tr: segment({ selector: 0, base: 0n, limit: 0x67, type: SEG_TYPE.TSS_BUSY, s: 0 }),
    },
    crs: { cr0: CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_PE, cr2: 0n, cr3, cr4: CR4_PAE, cr8: 0n },
    msrs: { efer: EFER_LME | EFER_LMA },
  };
}
