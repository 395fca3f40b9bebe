/**
 * Resource descriptors for _CRS buffers (ACPI 6.5 section 6.4): the byte layouts of the ASL
 * ResourceTemplate macros a host bridge and the legacy devices need. resourceTemplate() wraps
 * them in a Buffer with the End Tag (checksum byte 0: "treat as valid", as iasl writes it).
 */
import { VmmError, hex } from '../../../api/errors.js';
import { buffer, concat, type Aml } from './aml.js';

/** Little-endian bytes of an unsigned value of `width` bytes, checked to fit. */
function le(value: number | bigint, width: number, what: string): number[] {
  const v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new VmmError('EINVAL', `${what} ${hex(v)} does not fit in ${width} bytes`);
  return Array.from({ length: width }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

/** IO(Decode16, min, max, alignment, length): small descriptor, tag 0x47. */
export function ioPort(min: number, max: number, alignment: number, length: number): Aml {
  return Uint8Array.from([0x47, 0x01, ...le(min, 2, 'IO minimum'), ...le(max, 2, 'IO maximum'),
    ...le(alignment, 1, 'IO alignment'), ...le(length, 1, 'IO length')]);
}

/** IRQNoFlags() { irqs }: ISA IRQs 0-15, edge-triggered, active-high, exclusive. Tag 0x22. */
export function irqNoFlags(...irqs: number[]): Aml {
  let mask = 0;
  for (const irq of irqs) {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) throw new VmmError('EINVAL', `IRQNoFlags IRQ ${irq} is not 0-15`);
    mask |= 1 << irq;
  }
  return Uint8Array.of(0x22, mask & 0xff, mask >> 8);
}

export interface InterruptFlags {
  edge: boolean;
  activeLow: boolean;
  shared?: boolean;
}

/** Interrupt(ResourceConsumer, Level|Edge, ActiveHigh|ActiveLow, Exclusive|Shared) { gsis }: tag 0x89. */
export function extendedInterrupt(flags: InterruptFlags, ...gsis: number[]): Aml {
  if (gsis.length === 0 || gsis.length > 255) throw new VmmError('EINVAL', `Interrupt descriptor with ${gsis.length} interrupts (1-255)`);
  const flagByte = 0x01 | (flags.edge ? 0x02 : 0) | (flags.activeLow ? 0x04 : 0) | (flags.shared ? 0x08 : 0);
  const body = [flagByte, gsis.length, ...gsis.flatMap((g) => le(g, 4, 'Interrupt number'))];
  return Uint8Array.from([0x89, ...le(body.length, 2, 'descriptor length'), ...body]);
}

/** Memory32Fixed(ReadWrite|ReadOnly, base, length): tag 0x86. */
export function memory32Fixed(base: number, length: number, writable = true): Aml {
  return Uint8Array.from([0x86, 0x09, 0x00, writable ? 1 : 0, ...le(base, 4, 'Memory32Fixed base'), ...le(length, 4, 'Memory32Fixed length')]);
}

/** The resource type byte of an address space descriptor. */
export const AddressSpace = { Memory: 0, Io: 1, BusNumber: 2 } as const;

/** Type-specific flags: memory _RW (bit 0) and _MEM (bits 2:1); I/O _RNG (bits 1:0). */
export const MemoryCaching = { NonCacheable: 0, Cacheable: 1, WriteCombining: 2, Prefetchable: 3 } as const;
const IO_ENTIRE_RANGE = 0x03;

export interface AddressRange {
  /** First address (or bus) of the range. */
  min: number | bigint;
  /** Last address (inclusive). */
  max: number | bigint;
  /** A bridge window is a producer (what it decodes for its children); a device's own range a consumer. */
  producer: boolean;
  granularity?: number | bigint;
  translation?: number | bigint;
}

/**
 * Word/DWord/QWordSpace descriptors (tags 0x88/0x87/0x8A) with MinFixed, MaxFixed, PosDecode:
 * resource type, general flags, type flags, then granularity, min, max, translation and length,
 * each `width` bytes.
 */
function addressSpace(width: 2 | 4 | 8, type: number, typeFlags: number, r: AddressRange): Aml {
  const tag = { 2: 0x88, 4: 0x87, 8: 0x8a }[width];
  const min = BigInt(r.min);
  const max = BigInt(r.max);
  if (max < min) throw new VmmError('EINVAL', `address range ${hex(min)}-${hex(max)} ends before it starts`);
  const generalFlags = 0x0c | (r.producer ? 0 : 0x01);
  const body = [type, generalFlags, typeFlags,
    ...le(r.granularity ?? 0, width, 'granularity'), ...le(min, width, 'range minimum'), ...le(max, width, 'range maximum'),
    ...le(r.translation ?? 0, width, 'translation'), ...le(max - min + 1n, width, 'range length')];
  return Uint8Array.from([tag, ...le(body.length, 2, 'descriptor length'), ...body]);
}

/** WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, ...). */
export function wordBusNumber(r: AddressRange): Aml {
  return addressSpace(2, AddressSpace.BusNumber, 0, r);
}

/** WordIO(..., EntireRange). */
export function wordIo(r: AddressRange): Aml {
  return addressSpace(2, AddressSpace.Io, IO_ENTIRE_RANGE, r);
}

/** DWordIO(..., EntireRange). */
export function dwordIo(r: AddressRange): Aml {
  return addressSpace(4, AddressSpace.Io, IO_ENTIRE_RANGE, r);
}

/** DWordMemory(..., caching, ReadWrite). */
export function dwordMemory(r: AddressRange, caching: number = MemoryCaching.Cacheable): Aml {
  return addressSpace(4, AddressSpace.Memory, 0x01 | (caching << 1), r);
}

/** QWordMemory(..., caching, ReadWrite). */
export function qwordMemory(r: AddressRange, caching: number = MemoryCaching.Cacheable): Aml {
  return addressSpace(8, AddressSpace.Memory, 0x01 | (caching << 1), r);
}

/** ResourceTemplate() { descriptors }: a Buffer ending in the End Tag. */
export function resourceTemplate(...descriptors: Aml[]): Aml {
  return buffer(concat([...descriptors, Uint8Array.of(0x79, 0x00)]));
}
