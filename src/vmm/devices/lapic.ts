/**
 * A minimal local APIC, enough for a kernel to find out who it is: the 4 KiB register page at
 * IA32_APIC_BASE, whose ID register holds the vCPU id in bits 31:24, and the value RDMSR of
 * IA32_APIC_BASE returns. It delivers no interrupts (the monitor injects them through the API);
 * other registers are plain storage so that a kernel writing TPR, SVR or EOI sees its writes.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { MmioDevice } from './device.js';

export const LAPIC_BASE = 0xfee00000;
export const MSR_IA32_APIC_BASE = 0x1b;
const APIC_BASE_BSP = 0x100n, APIC_BASE_ENABLE = 0x800n;

/** Register offsets in the page (each register is 32 bits, on a 16-byte boundary). */
export const LAPIC_REG = { ID: 0x20, VERSION: 0x30, TPR: 0x80, EOI: 0xb0, SVR: 0xf0 } as const;
/** Version 0x14 (integrated APIC), 6 LVT entries (max LVT index 5 in bits 23:16). */
const LAPIC_VERSION = 0x00050014;
const PAGE = 4096, REG_STRIDE = 16;

export class LapicDevice implements MmioDevice {
  readonly name = 'lapic';
  readonly base: number;
  readonly size = PAGE;
  readonly apicId: number;
  private readonly regs = new Uint32Array(PAGE / REG_STRIDE);

  constructor(apicId: number, base = LAPIC_BASE) {
    if (!Number.isInteger(apicId) || apicId < 0 || apicId > 0xff) {
      throw new VmmError('EINVAL', `xAPIC id must be 0..255, got ${apicId}`);
    }
    this.apicId = apicId;
    this.base = base;
    this.regs[LAPIC_REG.SVR / REG_STRIDE] = 0xff;
  }

  /** IA32_APIC_BASE as the guest reads it: this page's address, bootstrap processor, enabled. */
  get apicBaseMsr(): bigint {
    return BigInt(this.base) | APIC_BASE_BSP | APIC_BASE_ENABLE;
  }

  read(offset: number, data: Uint8Array): void {
    const reg = this.register(offset, data, 'read');
    const value = reg === LAPIC_REG.ID ? this.apicId << 24 : reg === LAPIC_REG.VERSION ? LAPIC_VERSION : this.regs[reg / REG_STRIDE]!;
    new DataView(data.buffer, data.byteOffset, 4).setUint32(0, value >>> 0, true);
  }

  write(offset: number, data: Uint8Array): void {
    const reg = this.register(offset, data, 'write');
    // ID and version are read-only here, and EOI has nothing to acknowledge: drop those writes.
    if (reg === LAPIC_REG.ID || reg === LAPIC_REG.VERSION || reg === LAPIC_REG.EOI) return;
    this.regs[reg / REG_STRIDE] = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  }

  /** The SDM allows only aligned 32-bit accesses to the xAPIC registers. */
  private register(offset: number, data: Uint8Array, what: string): number {
    if (data.length !== 4 || offset % REG_STRIDE !== 0) {
      throw new VmmError('EINVAL', `LAPIC ${what} of ${data.length} bytes at ${hex(this.base + offset)}: only aligned 32-bit register accesses are supported`);
    }
    return offset;
  }
}
