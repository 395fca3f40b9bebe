/**
 * The DSDT (revision 2: 64-bit integers): the ACPI namespace Linux walks.
 *
 *   \_S5_            Package { SLP_TYPa, SLP_TYPb, 0, 0 }: soft-off, the only sleep state announced
 *   \_SB.PCI0        the host bridge: PNP0A03 (PNP0A08 + _CID PNP0A03 with ECAM), _CRS with the bus
 *                    range, the 0xCF8-0xCFF config ports it consumes, the I/O windows around them and
 *                    the BAR memory windows; _PRT routing every slot's INTA-D straight to IOAPIC GSIs
 *   \_SB.COM1 / RTC / KBD / MOU   the ISA devices, for Linux's PNP drivers (8250_pnp, rtc_cmos, i8042)
 *   \_SB.MBRS        PNP0C02 motherboard resources: the PM block's ports and the ECAM region, so
 *                    nothing else is assigned there (Linux also checks ECAM against these)
 *   \_SB.Cnnn        one ACPI0007 processor device per vCPU, _UID = the MADT processor UID
 */
import {
  concat, device, eisaId, int, name, pkg, scope, str, type Aml,
} from './aml.js';
import {
  dwordMemory, ioPort, irqNoFlags, memory32Fixed, qwordMemory, resourceTemplate, wordBusNumber, wordIo, MemoryCaching,
} from './aml-resources.js';
import { ecamRange, type ResolvedAcpiOptions } from './options.js';
import { PCI_SLOTS, pciIntxGsi } from './pci-intx.js';
import { sdt } from './sdt.js';

export const DSDT_REVISION = 2;

/** The PM block's ports (event, control, timer, reset) as one motherboard-resource IO range. */
function pmPortRange(o: ResolvedAcpiOptions): { min: number; length: number } {
  const p = o.pm;
  const lo = Math.min(p.pm1aEvent, p.pm1aControl, p.pmTimer, p.reset);
  const hi = Math.max(p.pm1aEvent + 4, p.pm1aControl + 2, p.pmTimer + 4, p.reset + 1);
  return { min: lo, length: hi - lo };
}

function hostBridge(o: ResolvedAcpiOptions): Aml {
  const { ecam } = o.pci;
  const firstBus = ecam?.startBus ?? 0;
  const lastBus = ecam?.endBus ?? 0xff;
  const crs = [
    wordBusNumber({ min: firstBus, max: lastBus, producer: true }),
    ioPort(0xcf8, 0xcf8, 1, 8), // the configuration mechanism #1 ports, consumed by the bridge itself
    wordIo({ min: 0x0000, max: 0x0cf7, producer: true }),
    wordIo({ min: 0x0d00, max: 0xffff, producer: true }),
    dwordMemory({ min: o.pci.mem32.base, max: o.pci.mem32.base + o.pci.mem32.size - 1, producer: true }, MemoryCaching.NonCacheable),
  ];
  if (o.pci.mem64) {
    crs.push(qwordMemory({ min: o.pci.mem64.base, max: BigInt(o.pci.mem64.base) + BigInt(o.pci.mem64.size) - 1n, producer: true }));
  }
  const routes: Aml[] = [];
  for (let slot = 0; slot < PCI_SLOTS; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      // Address 0xSSSSFFFF = any function of the slot; source 0 means the last field is a GSI.
      routes.push(pkg(int(slot * 0x10000 + 0xffff), int(pin), int(0), int(pciIntxGsi(slot, pin, o.pci.intxGsis))));
    }
  }
  const ids = ecam ? [name('_HID', eisaId('PNP0A08')), name('_CID', eisaId('PNP0A03'))] : [name('_HID', eisaId('PNP0A03'))];
  return device('PCI0',
    ...ids,
    name('_UID', int(0)),
    name('_SEG', int(0)),
    name('_BBN', int(firstBus)),
    name('_CRS', resourceTemplate(...crs)),
    name('_PRT', pkg(...routes)));
}

function legacyDevices(o: ResolvedAcpiOptions): Aml[] {
  const out: Aml[] = [];
  if (o.legacy.com1) {
    out.push(device('COM1', name('_HID', eisaId('PNP0501')), name('_UID', int(1)),
      name('_CRS', resourceTemplate(ioPort(0x3f8, 0x3f8, 1, 8), irqNoFlags(4)))));
  }
  if (o.legacy.rtc) {
    out.push(device('RTC', name('_HID', eisaId('PNP0B00')),
      name('_CRS', resourceTemplate(ioPort(0x70, 0x70, 1, 2), irqNoFlags(8)))));
  }
  if (o.legacy.i8042) {
    out.push(device('KBD', name('_HID', eisaId('PNP0303')),
      name('_CRS', resourceTemplate(ioPort(0x60, 0x60, 1, 1), ioPort(0x64, 0x64, 1, 1), irqNoFlags(1)))));
    out.push(device('MOU', name('_HID', eisaId('PNP0F13')), name('_CRS', resourceTemplate(irqNoFlags(12)))));
  }
  return out;
}

function motherboardResources(o: ResolvedAcpiOptions): Aml {
  const pm = pmPortRange(o);
  const crs = [ioPort(pm.min, pm.min, 1, pm.length)];
  if (o.pci.ecam) {
    const r = ecamRange(o.pci.ecam);
    crs.push(r.base + r.size <= 2 ** 32 ? memory32Fixed(r.base, r.size)
      : qwordMemory({ min: r.base, max: BigInt(r.base) + BigInt(r.size) - 1n, producer: false }, MemoryCaching.NonCacheable));
  }
  return device('MBRS', name('_HID', eisaId('PNP0C02')), name('_UID', int(0)), name('_CRS', resourceTemplate(...crs)));
}

function processors(o: ResolvedAcpiOptions): Aml[] {
  const out: Aml[] = [];
  for (let cpu = 0; cpu < o.vcpus; cpu++) {
    const seg = 'C' + cpu.toString(16).toUpperCase().padStart(3, '0');
    out.push(device(seg, name('_HID', str('ACPI0007')), name('_UID', int(cpu))));
  }
  return out;
}

/** The AML body (definition blocks' term list) the DSDT carries. */
export function dsdtAml(o: ResolvedAcpiOptions): Aml {
  return concat([
    name('_S5', pkg(int(o.pm.slpTypS5), int(o.pm.slpTypS5), int(0), int(0))),
    scope('_SB', hostBridge(o), ...legacyDevices(o), motherboardResources(o), ...processors(o)),
  ]);
}

export function buildDsdt(o: ResolvedAcpiOptions): Uint8Array {
  return sdt('DSDT', DSDT_REVISION, dsdtAml(o));
}
