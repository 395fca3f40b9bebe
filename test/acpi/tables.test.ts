/**
 * The table set as Linux reads it: the RSDP found by the BIOS-area scan, the XSDT leading to every
 * table, checksums and lengths, FADT pointers, MADT entries per vCPU, the PM block's ports agreeing
 * with the AcpiPmDevice, and every bad option refused with a message naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAcpiTables, type AcpiTables } from '../../src/vmm/loader/acpi/tables.js';
import type { AcpiOptions } from '../../src/vmm/loader/acpi/options.js';
import { AcpiPmDevice, acpiPmPorts } from '../../src/vmm/devices/legacy/acpi-pm.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { VmmError } from '../../src/api/errors.js';
import { GuestTables } from './table-reader.js';

const PCI = { mem32: { base: 0xc0000000, size: 0x3ec00000 } };

function tablesFor(extra: Partial<AcpiOptions> = {}): { t: AcpiTables; g: GuestTables } {
  const t = buildAcpiTables({ vcpus: 2, pci: PCI, ...extra });
  return { t, g: new GuestTables(t) };
}

/** Linux's x86 fallback: the first 16-byte-aligned "RSD PTR " with a valid checksum in 0xE0000-0xFFFFF. */
function scanBiosArea(memory: Uint8Array): number | undefined {
  const sig = [...'RSD PTR '].map((c) => c.charCodeAt(0));
  for (let a = 0xe0000; a < 0x100000; a += 16) {
    if (!sig.every((b, i) => memory[a + i] === b)) continue;
    let sum = 0;
    for (let i = 0; i < 20; i++) sum += memory[a + i]!;
    if ((sum & 0xff) === 0) return a;
  }
  return undefined;
}

test('the RSDP sits at 0xE0000 where the BIOS-area scan finds it, with both checksums and revision 2', () => {
  const { t, g } = tablesFor();
  assert.equal(t.gpa, 0xe0000);
  assert.equal(t.rsdpGpa, 0xe0000);
  const memory = new Uint8Array(0x100000);
  memory.set(t.bytes, t.gpa);
  assert.equal(scanBiosArea(memory), 0xe0000);
  assert.equal(g.sum(t.rsdpGpa, 20), 0);
  assert.equal(g.sum(t.rsdpGpa, 36), 0);
  assert.equal(g.u8(t.rsdpGpa + 15), 2);
  assert.equal(g.u32(t.rsdpGpa + 20), 36);
  assert.ok(t.bytes.length < 0x2000, `${t.bytes.length} bytes`);
});

test('RSDP -> XSDT -> FADT/MADT, FADT -> DSDT/FACS: every table checksummed, in bounds, aligned, not overlapping', () => {
  for (const extra of [{}, { pci: { ...PCI, ecam: { base: 0xb0000000 } } }, { vcpus: 254 }]) {
    const { t, g } = tablesFor(extra);
    const sigs = g.xsdtEntries().map((a) => g.sdt(a).signature);
    assert.deepEqual(sigs, 'pci' in extra ? ['FACP', 'APIC', 'MCFG'] : ['FACP', 'APIC']);
    for (const sig of [...sigs, 'DSDT', 'XSDT']) {
      const gpa = sig === 'XSDT' ? g.u64(t.rsdpGpa + 24) : g.find(sig)!;
      const s = g.sdt(gpa);
      assert.equal(s.signature, sig);
      assert.ok(s.checksumOk, `${sig} checksum`);
      assert.equal(gpa % 16, 0, `${sig} alignment`);
      assert.equal(t.tables.find((x) => x.signature === sig)!.bytes.length, s.length, `${sig} length`);
    }
    const facs = g.find('FACS')!;
    assert.equal(g.ascii(facs, 4), 'FACS');
    assert.equal(facs % 64, 0, 'FACS is 64-byte aligned');
    const fadt = g.find('FACP')!;
    assert.equal(g.u32(fadt + 40), g.find('DSDT'), 'the 32-bit DSDT field equals X_DSDT');
    assert.equal(g.u32(fadt + 36), 0, 'FACS only through X_FIRMWARE_CTRL');
    const spans = t.tables.map((x) => [x.gpa, x.gpa + x.bytes.length] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'tables do not overlap');
    assert.equal(spans.at(-1)![1], t.gpa + t.bytes.length);
  }
});

test('MADT: one enabled local APIC per vCPU (UID = APIC id = index), the IOAPIC, IRQ0->GSI2, SCI level, LINT1 NMI', () => {
  for (const vcpus of [1, 4, 254]) {
    const { g } = tablesFor({ vcpus, ioapic: { id: 3 } });
    const madt = g.find('APIC')!;
    assert.equal(g.u32(madt + 36), 0xfee00000);
    assert.equal(g.u32(madt + 40), 1, 'PCAT_COMPAT');
    const entries: number[][] = [];
    for (let at = madt + 44; at < madt + g.u32(madt + 4); at += g.u8(at + 1)) {
      entries.push(Array.from({ length: g.u8(at + 1) }, (_, i) => g.u8(at + i)));
    }
    const lapics = entries.filter((e) => e[0] === 0);
    assert.equal(lapics.length, vcpus);
    lapics.forEach((e, i) => assert.deepEqual(e, [0, 8, i, i, 1, 0, 0, 0]));
    assert.deepEqual(entries.filter((e) => e[0] === 1), [[1, 12, 3, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]]);
    assert.deepEqual(entries.filter((e) => e[0] === 2), [[2, 10, 0, 0, 2, 0, 0, 0, 0, 0], [2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0]]);
    assert.deepEqual(entries.filter((e) => e[0] === 4), [[4, 6, 0xff, 0, 0, 1]]);
    assert.equal(entries.length, vcpus + 4);
  }
});

test('the FADT names exactly the ports the AcpiPmDevice decodes, wherever the block is', () => {
  for (const [base, timer32] of [[0x600, true], [0xb000, false]] as const) {
    const dev = new AcpiPmDevice({ base, timer32, sci: new RecordingLine(), clock: new ManualClock(), onPowerOff() {}, onReset() {} });
    const { g } = tablesFor({ pm: dev.ports });
    const f = g.find('FACP')!;
    assert.equal(g.u16(f + 46), 9, 'SCI_INT');
    assert.equal(g.u32(f + 48), 0, 'no SMI_CMD');
    assert.equal(g.u32(f + 56), dev.ports.pm1aEvent);
    assert.equal(g.u32(f + 64), dev.ports.pm1aControl);
    assert.equal(g.u32(f + 76), dev.ports.pmTimer);
    assert.deepEqual([g.u8(f + 88), g.u8(f + 89), g.u8(f + 91)], [4, 2, 4]);
    assert.equal(g.u64(f + 148 + 4), dev.ports.pm1aEvent, 'X_PM1a_EVT_BLK');
    assert.equal(g.u64(f + 172 + 4), dev.ports.pm1aControl, 'X_PM1a_CNT_BLK');
    assert.equal(g.u64(f + 208 + 4), dev.ports.pmTimer, 'X_PM_TMR_BLK');
    assert.equal(g.u64(f + 116 + 4), dev.ports.reset, 'RESET_REG');
    assert.equal(g.u8(f + 116), 1, 'RESET_REG in SystemIO');
    assert.equal(g.u8(f + 128), dev.ports.resetValue);
    const flags = g.u32(f + 112);
    assert.equal((flags >> 8) & 1, timer32 ? 1 : 0, 'TMR_VAL_EXT');
    assert.equal((flags >> 10) & 1, 1, 'RESET_REG_SUP');
    assert.equal((flags >> 20) & 1, 0, 'not HW_REDUCED');
    // The ports lie in the block the device answers.
    for (const p of [dev.ports.pm1aEvent, dev.ports.pm1aControl + 1, dev.ports.pmTimer + 3, dev.ports.reset]) {
      assert.ok(p >= dev.base && p < dev.base + dev.count);
    }
  }
  assert.deepEqual(acpiPmPorts(), new AcpiPmDevice({ sci: new RecordingLine(), clock: new ManualClock(), onPowerOff() {}, onReset() {} }).ports);
});

test('tables can go elsewhere (e.g. reserved RAM for boot_params.acpi_rsdp_addr) and refuse to outgrow the room given', () => {
  const { t, g } = tablesFor({ gpa: 0x9f000, limit: 0x1000 });
  assert.equal(t.rsdpGpa, 0x9f000);
  assert.equal(g.sdt(g.find('DSDT')!).signature, 'DSDT');
  assert.throws(() => buildAcpiTables({ vcpus: 254, pci: PCI, gpa: 0x9f000, limit: 0x1000 }),
    (e: unknown) => e instanceof VmmError && e.code === 'E2BIG' && /need \d+ bytes at 0x9f000, only 4096/.test(e.message));
});

const BAD: [string, Partial<AcpiOptions>, RegExp][] = [
  ['no vCPU', { vcpus: 0 }, /vcpus = 0/],
  ['255 vCPUs (0xFF is the broadcast APIC id)', { vcpus: 255 }, /vcpus = 255/],
  ['an unaligned table address', { gpa: 0xe0008 }, /gpa 0xe0008 is not 16-byte aligned/],
  ['a 32-bit window over the IOAPIC', { pci: { mem32: { base: 0xc0000000, size: 0x3f000000 } } }, /pci.mem32 .* overlaps the IOAPIC/],
  ['a 32-bit window past 4 GiB', { pci: { mem32: { base: 0xfff00000, size: 0x200000 } } }, /pci.mem32 .* ends beyond 0x100000000/],
  ['an empty window', { pci: { mem32: { base: 0xc0000000, size: 0 } } }, /pci.mem32.size = 0/],
  ['a window over the tables', { pci: { mem32: { base: 0xe0000, size: 0x1000 } } }, /overlaps the ACPI tables/],
  ['overlapping windows', { pci: { ...PCI, mem64: { base: 0xc0000000, size: 0x1000 } } }, /pci.mem32 and pci.mem64 overlap/],
  ['a PCI GSI among the ISA IRQs', { pci: { ...PCI, intxGsis: [16, 5] } }, /pci.intxGsis\[1\] = 5/],
  ['a PCI GSI beyond the IOAPIC pins', { pci: { ...PCI, intxGsis: [24] } }, /pci.intxGsis\[0\] = 24/],
  ['an unaligned ECAM base', { pci: { ...PCI, ecam: { base: 0xb0080000 } } }, /ecam.base 0xb0080000 is not 1 MiB aligned/],
  ['an ECAM region under the 32-bit window', { pci: { ...PCI, ecam: { base: 0xd0000000 } } }, /pci.mem32 .* overlaps the ECAM region/],
  ['an inverted ECAM bus range', { pci: { ...PCI, ecam: { base: 0xb0000000, startBus: 4, endBus: 3 } } }, /ecam.endBus = 3/],
  ['an unaligned IOAPIC', { ioapic: { address: 0xfec00100 } }, /ioapic.address 0xfec00100/],
  ['a CMOS century index beyond 127', { rtcCenturyIndex: 0x80 }, /rtcCenturyIndex = 128/],
  ['a PM port beyond 0xFFFF', { pm: { ...acpiPmPorts(), pmTimer: 0x10000 } }, /pm.pmTimer = 65536/],
];

for (const [what, extra, message] of BAD) {
  test(`buildAcpiTables refuses ${what}`, () => {
    assert.throws(() => buildAcpiTables({ vcpus: 2, pci: PCI, ...extra }),
      (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && message.test(e.message) || assert.fail(String(e)));
  });
}
