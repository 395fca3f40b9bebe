/**
 * The AML encoder: byte encodings the ACPI specification fixes (PkgLength forms, integer
 * prefixes, NameStrings, EISAID), its refusals, and, where iasl is installed, the same ASL
 * compiled by iasl giving the very same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buffer, concat, device, eisaId, eisaIdValue, int, method, name, nameString, ones, pkg, pkgLength, ref, ret, scope, str, type Aml,
} from '../../src/vmm/loader/acpi/aml.js';
import {
  dwordIo, dwordMemory, extendedInterrupt, ioPort, irqNoFlags, memory32Fixed, qwordMemory, resourceTemplate, wordBusNumber, wordIo,
  MemoryCaching,
} from '../../src/vmm/loader/acpi/aml-resources.js';
import { VmmError } from '../../src/api/errors.js';
import { sdt } from '../../src/vmm/loader/acpi/sdt.js';
import { acpicaSkip, acpiexec, compileAsl, problemLines } from './acpica.js';

const bytes = (a: Aml): number[] => [...a];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

test('PkgLength: 1-byte form up to 63, then 2, 3 and 4 bytes, the value counting its own bytes', () => {
  assert.deepEqual(bytes(pkgLength(0)), [0x01]);
  assert.deepEqual(bytes(pkgLength(62)), [0x3f]); // 62 + 1 = 63, the largest 1-byte value
  assert.deepEqual(bytes(pkgLength(63)), [0x41, 0x04]); // 63 + 2 = 0x41: lead 01xx0001, then 0x41 >> 4
  assert.deepEqual(bytes(pkgLength(0xffd)), [0x4f, 0xff]); // 0xFFD + 2 = 0xFFF, the largest 2-byte value
  assert.deepEqual(bytes(pkgLength(0xffe)), [0x81, 0x00, 0x01]); // 0xFFE + 3 = 0x1001
  assert.deepEqual(bytes(pkgLength(0xffffc)), [0x8f, 0xff, 0xff]); // + 3 = 0xFFFFF
  assert.deepEqual(bytes(pkgLength(0xffffd)), [0xc1, 0x00, 0x00, 0x01]); // + 4 = 0x100001
  assert.deepEqual(bytes(pkgLength(0x0ffffffb)), [0xcf, 0xff, 0xff, 0xff]);
  assert.throws(() => pkgLength(0x0ffffffc), (e: unknown) => e instanceof VmmError && e.code === 'E2BIG');
});

test('integers take the shortest form: Zero, One, Byte/Word/DWord/QWord prefixes', () => {
  assert.deepEqual(bytes(int(0)), [0x00]);
  assert.deepEqual(bytes(int(1)), [0x01]);
  assert.deepEqual(bytes(int(2)), [0x0a, 0x02]);
  assert.deepEqual(bytes(int(0xff)), [0x0a, 0xff]);
  assert.deepEqual(bytes(int(0x100)), [0x0b, 0x00, 0x01]);
  assert.deepEqual(bytes(int(0x12345678)), [0x0c, 0x78, 0x56, 0x34, 0x12]);
  assert.deepEqual(bytes(int(0x1_0000_0000)), [0x0e, 0, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual(bytes(int(0xffff_ffff_ffff_ffffn)), [0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(bytes(ones()), [0xff]);
  for (const bad of [-1, 1.5, 2 ** 53, -1n, 1n << 64n]) {
    assert.throws(() => int(bad), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL', String(bad));
  }
});

test('NameStrings: padding, root and parent prefixes, dual and multi-segment paths', () => {
  assert.deepEqual(bytes(nameString('_S5')), ascii('_S5_'));
  assert.deepEqual(bytes(nameString('\\_SB')), [0x5c, ...ascii('_SB_')]);
  assert.deepEqual(bytes(nameString('\\_SB.PCI0')), [0x5c, 0x2e, ...ascii('_SB_PCI0')]);
  assert.deepEqual(bytes(nameString('\\_SB.PCI0.ISA')), [0x5c, 0x2f, 3, ...ascii('_SB_PCI0ISA_')]);
  assert.deepEqual(bytes(nameString('^^FOO')), [0x5e, 0x5e, ...ascii('FOO_')]);
  assert.deepEqual(bytes(nameString('\\')), [0x5c, 0x00]);
  for (const bad of ['', 'TOOLONG', '1ABC', 'a', '\\_SB..X', '^', 'A-B']) {
    assert.throws(() => nameString(bad), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL', bad);
  }
});

test('EISAID packs three letters and four hex digits big-endian: PNP0A03 is 0x030AD041', () => {
  assert.equal(eisaIdValue('PNP0A03'), 0x030ad041);
  assert.equal(eisaIdValue('PNP0501'), 0x0105d041);
  assert.deepEqual(bytes(eisaId('PNP0A03')), [0x0c, 0x41, 0xd0, 0x0a, 0x03]);
  for (const bad of ['pnp0a03', 'PNP0A0', 'PNP0A0G', 'P1P0A03']) assert.throws(() => eisaIdValue(bad), VmmError, bad);
});

test('strings, packages, methods, buffers: opcode, length, contents', () => {
  assert.deepEqual(bytes(str('AB')), [0x0d, 0x41, 0x42, 0x00]);
  assert.throws(() => str('a\0b'), VmmError);
  assert.throws(() => str('é'), VmmError);
  assert.deepEqual(bytes(pkg(int(5), int(0))), [0x12, 0x05, 0x02, 0x0a, 0x05, 0x00]);
  assert.throws(() => pkg(...Array.from({ length: 256 }, () => int(0))), (e: unknown) => e instanceof VmmError && e.code === 'E2BIG');
  assert.deepEqual(bytes(method('_STA', {}, ret(int(0x0f)))), [0x14, 0x09, ...ascii('_STA'), 0x00, 0xa4, 0x0a, 0x0f]);
  assert.equal(method('FOO', { args: 3, serialized: true, syncLevel: 5 })[6], 0x5b); // flags: 3 args | Serialized | sync level 5 << 4
  assert.throws(() => method('FOO', { args: 8 }), VmmError);
  assert.throws(() => method('FOO', { syncLevel: 16 }), VmmError);
  assert.deepEqual(bytes(buffer(Uint8Array.of(1, 2))), [0x11, 0x05, 0x0a, 0x02, 1, 2]);
  assert.deepEqual(bytes(device('RTC', name('_UID', int(0)))), [0x5b, 0x82, 0x0b, ...ascii('RTC_'), 0x08, ...ascii('_UID'), 0x00]);
});

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
}
function aslBytes(b: Uint8Array): string {
  return Array.from(b, (v) => '0x' + v.toString(16)).join(',');
}

/** ASL and our encoding of the same definitions; iasl must compile the ASL to exactly these bytes. */
const ORACLE_CASES: [string, string, Aml][] = [
  ['integers of every width', `Name (I0, 0) Name (I1, 1) Name (I2, 0x2A) Name (I3, 0x1234) Name (I4, 0x12345678) Name (I5, 0x123456789A)`,
    concat([name('I0', int(0)), name('I1', int(1)), name('I2', int(0x2a)), name('I3', int(0x1234)), name('I4', int(0x12345678)), name('I5', int(0x123456789a))])],
  ['strings and EISAIDs', `Name (S0, "ACPI0007") Name (E0, EisaId ("PNP0A03")) Name (E1, EisaId ("PNP0C02"))`,
    concat([name('S0', str('ACPI0007')), name('E0', eisaId('PNP0A03')), name('E1', eisaId('PNP0C02'))])],
  ['a package with nested packages and a name reference', `Name (P0, Package () { 1, "x", Package () { 0xFFFF, 2 }, P0 })`,
    name('P0', pkg(int(1), str('x'), pkg(int(0xffff), int(2)), ref('P0')))],
  ['scopes and devices with root, dual and multi-segment paths',
    `Scope (\\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Device (ISA) { Name (_ADR, 0x00010000) } } }
     Scope (\\_SB.PCI0) { Name (A, 2) }
     Scope (\\_SB.PCI0.ISA) { Name (B, 3) }`,
    concat([scope('\\_SB', device('PCI0', name('_HID', eisaId('PNP0A03')), device('ISA', name('_ADR', int(0x10000))))),
      scope('\\_SB.PCI0', name('A', int(2))), scope('\\_SB.PCI0.ISA', name('B', int(3)))])],
  ['methods returning values', `Method (_STA, 0, NotSerialized) { Return (0x0F) }
     Method (FOO, 3, Serialized, 5) { Return (Package () { 1, "a" }) }`,
    concat([method('_STA', {}, ret(int(0x0f))), method('FOO', { args: 3, serialized: true, syncLevel: 5 }, ret(pkg(int(1), str('a'))))])],
  ['PkgLength in 2 bytes (a package of 40 DWords)', `Name (L2, Package () { ${Array(40).fill('0x12345678').join(', ')} })`,
    name('L2', pkg(...Array.from({ length: 40 }, () => int(0x12345678))))],
  ['PkgLength in 3 bytes (a 5000-byte buffer)', `Name (L3, Buffer () { ${aslBytes(pattern(5000))} })`, name('L3', buffer(pattern(5000)))],
  ['every resource descriptor', `Name (RT, ResourceTemplate () {
      WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF, 0, 0x100)
      IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
      WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300)
      DWordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, 0, 0x0CF7, 0, 0x0CF8)
      DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0, 0xC0000000, 0xFEBFFFFF, 0, 0x3EC00000)
      DWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Prefetchable, ReadWrite, 0, 0x1000, 0x1FFF, 0, 0x1000)
      QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite, 0, 0x800000000, 0xBFFFFFFFF, 0, 0x400000000)
      Memory32Fixed (ReadWrite, 0xB0000000, 0x10000000)
      IRQNoFlags () {4}
      IRQNoFlags () {1, 12}
      Interrupt (ResourceConsumer, Level, ActiveLow, Shared) {16, 17}
      Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {9}
    })`,
    name('RT', resourceTemplate(
      wordBusNumber({ min: 0, max: 0xff, producer: true }),
      ioPort(0xcf8, 0xcf8, 1, 8),
      wordIo({ min: 0xd00, max: 0xffff, producer: true }),
      dwordIo({ min: 0, max: 0xcf7, producer: true }),
      dwordMemory({ min: 0xc0000000, max: 0xfebfffff, producer: true }, MemoryCaching.NonCacheable),
      dwordMemory({ min: 0x1000, max: 0x1fff, producer: false }, MemoryCaching.Prefetchable),
      qwordMemory({ min: 0x800000000, max: 0xbffffffffn, producer: true }),
      memory32Fixed(0xb0000000, 0x10000000),
      irqNoFlags(4),
      irqNoFlags(1, 12),
      extendedInterrupt({ edge: false, activeLow: true, shared: true }, 16, 17),
      extendedInterrupt({ edge: true, activeLow: false }, 9)))],
];

for (const [what, asl, ours] of ORACLE_CASES) {
  test(`iasl compiles ${what} to the encoder's bytes`, { skip: acpicaSkip('iasl') }, () => {
    const r = compileAsl(`DefinitionBlock ("", "SSDT", 2, "TSVISR", "TSVISOR ", 1) {\n${asl}\n}\n`);
    assert.equal(r.status, 0, r.log);
    assert.deepEqual(problemLines(r.log).filter((l) => !/0 Errors, 0 Warnings/.test(l)), [], r.log);
    const body = r.aml.subarray(36);
    assert.equal(body.length, ours.length, 'AML length');
    assert.ok(Buffer.from(body).equals(Buffer.from(ours)), `bytes differ:\n iasl ${Buffer.from(body.subarray(0, 64)).toString('hex')}\n ours ${Buffer.from(ours.subarray(0, 64)).toString('hex')}`);
  });
}

test('resource descriptors refuse values that do not fit', () => {
  assert.throws(() => ioPort(0x10000, 0, 1, 1), VmmError);
  assert.throws(() => irqNoFlags(16), VmmError);
  assert.throws(() => extendedInterrupt({ edge: true, activeLow: false }), VmmError);
  assert.throws(() => wordIo({ min: 0x10, max: 0x0f, producer: true }), VmmError);
  assert.throws(() => dwordMemory({ min: 0, max: 0x1_0000_0000, producer: true }), VmmError);
});

// iasl takes minutes over a 1 MiB buffer initializer, so the 4-byte PkgLength form is checked by
// ACPICA's own parser instead: a scope holding 1 MiB and a name after it must both load.
test('acpiexec parses a scope whose 1 MiB body needs the 4-byte PkgLength', { skip: acpicaSkip('acpiexec') }, () => {
  const big = pattern(0x100000);
  const inner = scope('\\_SB', name('BIG', buffer(big)), name('END', int(0x1234)));
  assert.equal(inner[1]! >> 6, 3, 'lead byte announces 4 bytes');
  // END is found inside the scope and OUT after it only if the scope's length is exact.
  const dsdt = sdt('DSDT', 2, concat([inner, name('OUT', int(0x5678))]));
  const r = acpiexec([{ name: 'dsdt.dat', bytes: dsdt }], ['evaluate \\_SB.END', 'evaluate \\OUT']);
  assert.match(r.log, /Evaluation of \\_SB\.END returned[^]*?\[Integer\] = 0000000000001234/, r.log);
  assert.match(r.log, /Evaluation of \\OUT returned[^]*?\[Integer\] = 0000000000005678/, r.log);
  assert.deepEqual(r.log.split('\n').filter((l) => /ACPI (BIOS )?(Error|Warning)/.test(l)), []);
});
