/**
 * The generated tables against ACPICA, the code Linux itself runs: iasl disassembles every table
 * (verifying checksums and layouts) without a complaint and shows the values we meant; the DSDT's
 * disassembly compiles back to the identical AML; acpiexec loads the set, parses the FADT as the
 * kernel does, and evaluates \_S5, the host bridge's _CRS and _PRT and the legacy devices' _CRS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAcpiTables, type AcpiTables } from '../../src/vmm/loader/acpi/tables.js';
import type { AcpiOptions } from '../../src/vmm/loader/acpi/options.js';
import { pciIntxGsi } from '../../src/vmm/loader/acpi/pci-intx.js';
import { acpiPmPorts } from '../../src/vmm/devices/legacy/acpi-pm.js';
import { acpicaSkip, acpiexec, compileAsl, disassemble, problemLines } from './acpica.js';
import { fieldValues } from './table-reader.js';

const hex = (v: number, digits: number): string => v.toString(16).toUpperCase().padStart(digits, '0');

const CONFIGS: [string, AcpiOptions][] = [
  ['2 vCPUs, defaults', { vcpus: 2, pci: { mem32: { base: 0xc0000000, size: 0x3ec00000 } } }],
  ['8 vCPUs, ECAM, a 64-bit window, PM block at 0xB000 with a 24-bit timer', {
    vcpus: 8, pm: acpiPmPorts(0xb000, false),
    pci: { mem32: { base: 0x80000000, size: 0x30000000 }, mem64: { base: 2 ** 36, size: 2 ** 34 }, ecam: { base: 0xe0000000, endBus: 0x3f } },
  }],
  ['254 vCPUs, no legacy devices, PCI interrupts on GSIs 20-23', {
    vcpus: 254, legacy: { com1: false, rtc: false, i8042: false }, rtcCenturyIndex: 0,
    pci: { mem32: { base: 0xc0000000, size: 0x10000000 }, intxGsis: [20, 21, 22, 23] },
  }],
];

function table(t: AcpiTables, sig: string): Uint8Array {
  return t.tables.find((x) => x.signature === sig)!.bytes;
}

for (const [what, opts] of CONFIGS) {
  const t = buildAcpiTables(opts);
  const o = t.options;

  test(`iasl disassembles every table cleanly (${what})`, { skip: acpicaSkip('iasl') }, () => {
    const dsl: Record<string, string> = {};
    for (const { signature, bytes } of t.tables) {
      if (signature === 'RSD PTR ') continue; // iasl reads only tables with an SDT-style length field
      const r = disassemble(bytes);
      assert.equal(r.status, 0, r.log);
      assert.deepEqual(problemLines(r.log), [], `${signature}: ${r.log}`);
      assert.deepEqual(problemLines(r.dsl), [], `${signature} disassembly flags something`);
      dsl[signature] = r.dsl;
    }
    const facp = (name: string): string[] => fieldValues(dsl.FACP!, name);
    assert.deepEqual(facp('Revision'), ['06']);
    assert.deepEqual(facp('Table Length'), ['00000114']);
    assert.deepEqual(facp('SCI Interrupt'), ['0009']);
    assert.deepEqual(facp('PM1A Event Block Address'), [hex(o.pm.pm1aEvent, 8)]);
    assert.deepEqual(facp('PM1A Control Block Address'), [hex(o.pm.pm1aControl, 8)]);
    assert.deepEqual(facp('PM Timer Block Address'), [hex(o.pm.pmTimer, 8)]);
    assert.deepEqual(facp('32-bit PM Timer (V1)'), [o.pm.timer32 ? '1' : '0']);
    assert.deepEqual(facp('Reset Register Supported (V2)'), ['1']);
    assert.deepEqual(facp('Hardware Reduced (V5)'), ['0']);
    assert.deepEqual(facp('Control Method Power Button (V1)'), ['0']);
    assert.deepEqual(facp('Value to cause reset'), [hex(o.pm.resetValue, 2)]);
    assert.deepEqual(facp('8042 Present on ports 60/64 (V2)'), [o.legacy.i8042 ? '1' : '0']);
    assert.deepEqual(facp('CMOS RTC Not Present (V5)'), [o.legacy.rtc ? '0' : '1']);
    assert.deepEqual(facp('MSI Not Supported (V4)'), ['0']);
    assert.deepEqual(facp('RTC Century Index'), [hex(o.rtcCenturyIndex, 2)]);
    assert.deepEqual(facp('Address').slice(0, 1), [hex(o.pm.reset, 16)], 'RESET_REG address');

    const apic = (name: string): string[] => fieldValues(dsl.APIC!, name);
    assert.deepEqual(apic('Local Apic Address'), ['FEE00000']);
    assert.deepEqual(apic('PC-AT Compatibility'), ['1']);
    assert.equal(apic('Subtable Type').filter((v) => v === '00 [Processor Local APIC]').length, o.vcpus);
    assert.deepEqual(apic('Local Apic ID'), Array.from({ length: o.vcpus }, (_, i) => hex(i, 2)));
    assert.deepEqual(apic('Processor Enabled'), Array(o.vcpus).fill('1'));
    assert.deepEqual(apic('Source'), ['00', '09'], 'overrides for IRQ0 and IRQ9');
    assert.deepEqual(apic('Interrupt'), ['00000000', '00000002', '00000009'], 'IOAPIC GSI base, then the override GSIs');
    assert.deepEqual(apic('Trigger Mode'), ['0', '3', '0'], 'IRQ0 conforms, SCI level, NMI conforms');
    assert.deepEqual(apic('Interrupt Input LINT'), ['01']);

    if (o.pci.ecam) {
      assert.deepEqual(fieldValues(dsl.MCFG!, 'Base Address'), [hex(o.pci.ecam.base, 16)]);
      assert.deepEqual(fieldValues(dsl.MCFG!, 'End Bus Number'), [hex(o.pci.ecam.endBus, 2)]);
    } else {
      assert.equal(dsl.MCFG, undefined);
    }
    assert.deepEqual(fieldValues(dsl.XSDT!, 'ACPI Table Address   0'), [hex(t.tables.find((x) => x.signature === 'FACP')!.gpa, 16)]);
    assert.deepEqual(fieldValues(dsl.FACS!, 'Length'), ['00000040']);

    const d = dsl.DSDT!;
    assert.match(d, /DefinitionBlock \("", "DSDT", 2, "TSVISR", "TSVISOR ", 0x00000001\)/);
    assert.match(d, /Name \(_S5, Package \(0x04\)/);
    assert.match(d, new RegExp(`Device \\(PCI0\\)[^]*EisaId \\("${o.pci.ecam ? 'PNP0A08' : 'PNP0A03'}"\\)`));
    assert.match(d, /Name \(_PRT, Package \(0x80\)/);
    assert.equal(d.match(/"ACPI0007"/g)?.length, o.vcpus);
    assert.equal(/Device \(COM1\)/.test(d), o.legacy.com1);
    assert.equal(/Device \(KBD\)/.test(d), o.legacy.i8042);
  });

  test(`the DSDT's disassembly compiles back to identical AML (${what})`, { skip: acpicaSkip('iasl') }, () => {
    const ours = table(t, 'DSDT');
    const dis = disassemble(ours);
    const back = compileAsl(dis.dsl);
    assert.equal(back.status, 0, back.log);
    assert.deepEqual(problemLines(back.log).filter((l) => !/0 Errors, 0 Warnings/.test(l)), [], back.log);
    assert.ok(Buffer.from(back.aml.subarray(36)).equals(Buffer.from(ours.subarray(36))), 'AML bodies differ');
  });

  test(`acpiexec loads the set and evaluates \\_S5, _PRT and the _CRS buffers as Linux would (${what})`, { skip: acpicaSkip('acpiexec') }, () => {
    const files = t.tables.filter((x) => x.signature !== 'RSD PTR ' && x.signature !== 'XSDT')
      .map((x) => ({ name: `${x.signature}.dat`, bytes: x.bytes }));
    const cmds = ['evaluate \\_S5', 'resources \\_SB.PCI0', 'resources \\_SB.MBRS'];
    if (o.legacy.com1) cmds.push('resources \\_SB.COM1');
    const r = acpiexec(files, cmds);
    const log = r.log;
    assert.deepEqual(log.split('\n').filter((l) => /ACPI (BIOS )?(Error|Warning)|Firmware (Error|Warning)/.test(l)), [], log);
    assert.match(log, new RegExp(`ACPI: DSDT 0x[0-9A-F]+ ${hex(table(t, 'DSDT').length, 6)} \\(v02 TSVISR`));
    assert.match(log, new RegExp(`Evaluation of \\\\_S5 returned[^]*?Contains 4 Elements:\\s+\\[Integer\\] = ${hex(o.pm.slpTypS5, 16)}`));

    // Every _PRT entry as ACPICA reads it: slot address, pin, no link (GSI in Source Index).
    const prt = [...log.matchAll(/Address : ([0-9A-F]+)\s+Pin : ([0-9A-F]+)\s+Source : \[NULL NAMESTRING\]\s+Source Index : ([0-9A-F]+)/g)]
      .map((m) => [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)]);
    assert.equal(prt.length, 128);
    for (const [addr, pin, gsi] of prt) {
      const slot = (addr! - 0xffff) / 0x10000;
      assert.equal(gsi, pciIntxGsi(slot, pin!, o.pci.intxGsis), `slot ${slot} pin ${pin}`);
    }

    // The host bridge windows, decoded by ACPICA's resource manager (what Linux's pci_root uses).
    const minMax = [...log.matchAll(/Address Minimum : ([0-9A-F]+)\s+Address Maximum : ([0-9A-F]+)/g)].map((m) => `${m[1]}-${m[2]}`);
    const lastBus = o.pci.ecam?.endBus ?? 0xff;
    const want = [`0000-00${hex(lastBus, 2)}`, '0CF8-0CF8', '0000-0CF7', '0D00-FFFF',
      `${hex(o.pci.mem32.base, 8)}-${hex(o.pci.mem32.base + o.pci.mem32.size - 1, 8)}`];
    if (o.pci.mem64) want.push(`${hex(o.pci.mem64.base, 16)}-${hex(o.pci.mem64.base + o.pci.mem64.size - 1, 16)}`);
    const pm = Math.min(o.pm.pm1aEvent, o.pm.pmTimer, o.pm.reset);
    want.push(`${hex(pm, 4)}-${hex(pm, 4)}`); // MBRS: the PM block
    if (o.legacy.com1) want.push('03F8-03F8');
    assert.deepEqual(minMax, want);
    assert.doesNotMatch(log, /Mismatch/i, 'ACPICA converted every resource back to the same AML');
    if (o.pci.ecam) assert.match(log, new RegExp(`32-Bit Fixed Memory Range Resource[^]*?Address : ${hex(o.pci.ecam.base, 8)}\\s+Address Length : ${hex((o.pci.ecam.endBus + 1) << 20, 8)}`));
    if (o.legacy.com1) assert.match(log, /IRQ Resource[^]*?Triggering : Edge\s+Polarity : ActiveHigh\s+Sharing : Exclusive\s+Interrupt Count : 01\s+Interrupt List : 4 /);
  });
}
