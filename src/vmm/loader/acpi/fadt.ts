/**
 * FADT ("FACP", revision 6, 276 bytes: the ACPI 6.x layout) and the FACS it points to.
 *
 * Choices: a full (not HW_REDUCED) fixed-hardware platform, because the machine has 8259s, an
 * 8254 and an RTC, and Linux powers off through PM1a_CNT SLP_TYP/SLP_EN with the \_S5 values.
 * SMI_CMD = 0: there is no SMM, so the platform is always in ACPI mode (SCI_EN reads 1).
 * No GPE block. C2/C3 latencies above their limits (unsupported); only C1 (HLT).
 * RESET_REG is a byte register in SystemIO; the PM1 and timer blocks are given both as the
 * legacy 32-bit port fields and the X_ Generic Address Structures, with equal values.
 */
import type { ResolvedAcpiOptions } from './options.js';
import { SCI_IRQ } from './options.js';
import { GasAccess, GasSpace, TableWriter, bodyWriter, sdt, writeGas, type Gas } from './sdt.js';

export const FADT_REVISION = 6;
export const FADT_MINOR_REVISION = 5;
export const FADT_LENGTH = 276;
export const FACS_LENGTH = 64;

/** FADT Flags bits (ACPI 6.5 table 5.10). */
export const FadtFlag = {
  WBINVD: 1 << 0, PROC_C1: 1 << 2, PWR_BUTTON: 1 << 4, SLP_BUTTON: 1 << 5, FIX_RTC: 1 << 6,
  TMR_VAL_EXT: 1 << 8, RESET_REG_SUP: 1 << 10, HW_REDUCED_ACPI: 1 << 20,
} as const;

/** IA-PC boot architecture flags (table 5.11). */
export const BootArch = { LEGACY_DEVICES: 1 << 0, I8042: 1 << 1, VGA_NOT_PRESENT: 1 << 2, MSI_NOT_SUPPORTED: 1 << 3, CMOS_RTC_NOT_PRESENT: 1 << 5 } as const;

/** Field offsets of the FADT body we set (everything else is 0). */
const F = {
  FirmwareCtrl: 36, Dsdt: 40, PreferredPmProfile: 45, SciInt: 46, SmiCmd: 48,
  Pm1aEvtBlk: 56, Pm1aCntBlk: 64, PmTmrBlk: 76, Pm1EvtLen: 88, Pm1CntLen: 89, PmTmrLen: 91,
  PLvl2Lat: 96, PLvl3Lat: 98, Century: 108, IapcBootArch: 109, Flags: 112, ResetReg: 116, ResetValue: 128,
  MinorVersion: 131, XFirmwareCtrl: 132, XDsdt: 140, XPm1aEvtBlk: 148, XPm1aCntBlk: 172, XPmTmrBlk: 208,
} as const;

const PM1_EVT_LEN = 4;
const PM1_CNT_LEN = 2;
const PM_TMR_LEN = 4;
/** Above 100 / 1000 microseconds means "C2 / C3 not supported". */
const C_STATE_UNSUPPORTED = 0x0fff;

export function buildFadt(o: ResolvedAcpiOptions, dsdtGpa: number, facsGpa: number): Uint8Array {
  const w = bodyWriter(FADT_LENGTH);
  w.u32(F.FirmwareCtrl, 0); // the FACS is given by X_FIRMWARE_CTRL only: the spec wants one of the two at most
  w.u32(F.Dsdt, dsdtGpa);
  w.u8(F.PreferredPmProfile, 0); // unspecified
  w.u16(F.SciInt, SCI_IRQ);
  w.u32(F.SmiCmd, 0);
  w.u32(F.Pm1aEvtBlk, o.pm.pm1aEvent);
  w.u32(F.Pm1aCntBlk, o.pm.pm1aControl);
  w.u32(F.PmTmrBlk, o.pm.pmTimer);
  w.u8(F.Pm1EvtLen, PM1_EVT_LEN);
  w.u8(F.Pm1CntLen, PM1_CNT_LEN);
  w.u8(F.PmTmrLen, PM_TMR_LEN);
  w.u16(F.PLvl2Lat, C_STATE_UNSUPPORTED);
  w.u16(F.PLvl3Lat, C_STATE_UNSUPPORTED);
  w.u8(F.Century, o.rtcCenturyIndex);
  const legacy = o.legacy;
  w.u16(F.IapcBootArch, BootArch.LEGACY_DEVICES | (legacy.i8042 ? BootArch.I8042 : 0) | BootArch.VGA_NOT_PRESENT
    | (legacy.rtc ? 0 : BootArch.CMOS_RTC_NOT_PRESENT));
  // PWR_BUTTON clear: the power button is the fixed-feature one in PM1 (AcpiPmDevice.pressPowerButton).
  w.u32(F.Flags, FadtFlag.WBINVD | FadtFlag.PROC_C1 | FadtFlag.SLP_BUTTON | FadtFlag.FIX_RTC
    | (o.pm.timer32 ? FadtFlag.TMR_VAL_EXT : 0) | FadtFlag.RESET_REG_SUP);
  writeGas(w, F.ResetReg, { space: GasSpace.SystemIo, bitWidth: 8, access: GasAccess.Byte, address: o.pm.reset });
  w.u8(F.ResetValue, o.pm.resetValue);
  w.u8(F.MinorVersion, FADT_MINOR_REVISION);
  w.u64(F.XFirmwareCtrl, facsGpa);
  w.u64(F.XDsdt, dsdtGpa);
  writeGas(w, F.XPm1aEvtBlk, ioBlock(o.pm.pm1aEvent, PM1_EVT_LEN));
  writeGas(w, F.XPm1aCntBlk, ioBlock(o.pm.pm1aControl, PM1_CNT_LEN));
  writeGas(w, F.XPmTmrBlk, ioBlock(o.pm.pmTimer, PM_TMR_LEN));
  return sdt('FACP', FADT_REVISION, w.bytes);
}

/** An X_ block in SystemIO with the legacy fields' length; access size left to the block's rules. */
function ioBlock(port: number, bytes: number): Gas {
  return { space: GasSpace.SystemIo, bitWidth: bytes * 8, access: GasAccess.Undefined, address: port };
}

/**
 * FACS: 64 bytes, no checksum, must be 64-byte aligned. Version 2; no hardware signature, no
 * waking vector (no S1-S4), global lock free (no firmware ever takes it).
 */
export function buildFacs(): Uint8Array {
  const w = new TableWriter(FACS_LENGTH);
  w.ascii(0, 'FACS', 4);
  w.u32(4, FACS_LENGTH);
  w.u8(32, 2);
  return w.bytes;
}
