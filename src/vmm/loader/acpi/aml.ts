/**
 * A small AML (ACPI Machine Language) encoder: each combinator returns the bytes of one term, so a
 * DSDT is written as nested calls that mirror the ASL it stands for (Scope, Device, Name, Method,
 * Package...). Only the subset a monitor's static namespace needs is here; every encoding is the
 * one ACPI 6.5 section 20 (AML grammar) gives, in the shortest form, which is also what iasl emits.
 */
import { VmmError, hex } from '../../../api/errors.js';

/** The encoded bytes of one AML term or data object. */
export type Aml = Uint8Array;

/** Opcodes used below (ACPI 6.5 section 20.3). */
const Op = {
  Zero: 0x00, One: 0x01, Name: 0x08, BytePrefix: 0x0a, WordPrefix: 0x0b, DWordPrefix: 0x0c,
  StringPrefix: 0x0d, QWordPrefix: 0x0e, Scope: 0x10, Buffer: 0x11, Package: 0x12, Method: 0x14,
  DualNamePrefix: 0x2e, MultiNamePrefix: 0x2f, ExtOpPrefix: 0x5b, DeviceExt: 0x82, RootChar: 0x5c,
  ParentPrefix: 0x5e, Return: 0xa4, Ones: 0xff,
} as const;

export function concat(parts: readonly Aml[]): Aml {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const MAX_PKG_LENGTH = 0x0fffffff;

/**
 * PkgLength for a body of bodyLength bytes. The encoded value counts its own bytes too: one byte
 * holds up to 63; longer forms put the byte count - 1 in bits 7:6 of the lead byte, the low nibble
 * in bits 3:0, and the rest 8 bits at a time in up to three following bytes.
 */
export function pkgLength(bodyLength: number): Aml {
  for (let n = 1; n <= 4; n++) {
    const value = bodyLength + n;
    if (n === 1 && value <= 0x3f) return Uint8Array.of(value);
    if (n > 1 && value < 2 ** (4 + 8 * (n - 1))) {
      const out = new Uint8Array(n);
      out[0] = ((n - 1) << 6) | (value & 0x0f);
      for (let i = 1; i < n; i++) out[i] = Math.floor(value / 2 ** (4 + 8 * (i - 1))) & 0xff;
      return out;
    }
  }
  throw new VmmError('E2BIG', `AML package body of ${bodyLength} bytes exceeds the PkgLength limit ${hex(MAX_PKG_LENGTH)}`);
}

/** opcode(s), PkgLength, then the body: the shape of every AML object with a length. */
function withLength(opcode: readonly number[], body: Aml): Aml {
  return concat([Uint8Array.from(opcode), pkgLength(body.length), body]);
}

const NAME_SEG = /^[A-Z_][A-Z0-9_]{0,3}$/;

/** One NameSeg: up to 4 characters, padded with '_' as ASL does ("PCI" -> "PCI_"). */
function nameSeg(seg: string): Aml {
  if (!NAME_SEG.test(seg)) {
    throw new VmmError('EINVAL', `AML name segment "${seg}" is not 1-4 of A-Z, 0-9, _ starting with a letter or _`);
  }
  const padded = seg.padEnd(4, '_');
  return Uint8Array.from(padded, (c) => c.charCodeAt(0));
}

/**
 * A NameString from ASL path syntax: an optional root '\' or parent '^' prefixes, then segments
 * joined by '.', e.g. "\\_SB.PCI0", "^^FOO", "_S5". Two segments use DualNamePrefix, more use
 * MultiNamePrefix with a count, none (a bare "\\") is the NullName.
 */
export function nameString(path: string): Aml {
  let i = 0;
  const prefix: number[] = [];
  if (path.startsWith('\\')) {
    prefix.push(Op.RootChar);
    i = 1;
  } else {
    while (path[i] === '^') {
      prefix.push(Op.ParentPrefix);
      i++;
    }
  }
  const rest = path.slice(i);
  const segs = rest === '' ? [] : rest.split('.').map(nameSeg);
  if (segs.length === 0 && prefix[0] !== Op.RootChar) {
    throw new VmmError('EINVAL', `AML name "${path}" has no name segment`);
  }
  if (segs.length > 255) throw new VmmError('EINVAL', `AML name "${path}" has ${segs.length} segments (at most 255)`);
  let head: number[];
  if (segs.length === 0) head = [0x00];
  else if (segs.length === 1) head = [];
  else if (segs.length === 2) head = [Op.DualNamePrefix];
  else head = [Op.MultiNamePrefix, segs.length];
  return concat([Uint8Array.from([...prefix, ...head]), ...segs]);
}

const U64_MAX = (1n << 64n) - 1n;

/** An Integer in the shortest form: Zero, One, or a Byte/Word/DWord/QWord-prefixed constant. */
export function int(value: number | bigint): Aml {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new VmmError('EINVAL', `AML integer ${value} is not a whole number (use a bigint beyond 2^53)`);
  }
  const v = BigInt(value);
  if (v < 0n || v > U64_MAX) throw new VmmError('EINVAL', `AML integer ${value} is outside 0..2^64-1`);
  if (v === 0n) return Uint8Array.of(Op.Zero);
  if (v === 1n) return Uint8Array.of(Op.One);
  const [prefix, bytes] = v <= 0xffn ? [Op.BytePrefix, 1] : v <= 0xffffn ? [Op.WordPrefix, 2]
    : v <= 0xffffffffn ? [Op.DWordPrefix, 4] : [Op.QWordPrefix, 8];
  const out = new Uint8Array(1 + bytes);
  out[0] = prefix;
  for (let i = 0; i < bytes; i++) out[1 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Ones: all bits set (the width follows the DSDT revision). */
export function ones(): Aml {
  return Uint8Array.of(Op.Ones);
}

/** A String constant: printable ASCII, NUL-terminated. */
export function str(text: string): Aml {
  if (!/^[\x01-\x7f]*$/.test(text)) throw new VmmError('EINVAL', `AML string ${JSON.stringify(text)} is not 7-bit ASCII without NUL`);
  return concat([Uint8Array.of(Op.StringPrefix), Uint8Array.from(text, (c) => c.charCodeAt(0)), Uint8Array.of(0)]);
}

/**
 * EISAID("PNP0A03"): three letters in 5 bits each and four hex digits, packed big-endian into a
 * DWord (so "PNP0A03" is the bytes 41 D0 0A 03, the integer 0x030AD041). Always a DWord, as iasl
 * emits it.
 */
export function eisaIdValue(id: string): number {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new VmmError('EINVAL', `EISA id "${id}" is not three capital letters and four hex digits`);
  const letters = ((id.charCodeAt(0) - 0x40) << 10) | ((id.charCodeAt(1) - 0x40) << 5) | (id.charCodeAt(2) - 0x40);
  const product = parseInt(id.slice(3), 16);
  const bigEndian = ((letters << 16) | product) >>> 0;
  return (((bigEndian & 0xff) << 24) | ((bigEndian & 0xff00) << 8) | ((bigEndian >>> 8) & 0xff00) | (bigEndian >>> 24)) >>> 0;
}

export function eisaId(id: string): Aml {
  const v = eisaIdValue(id);
  return Uint8Array.of(Op.DWordPrefix, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
}

/** Name(path, value). */
export function name(path: string, value: Aml): Aml {
  return concat([Uint8Array.of(Op.Name), nameString(path), value]);
}

/** Scope(path) { terms }. */
export function scope(path: string, ...terms: Aml[]): Aml {
  return withLength([Op.Scope], concat([nameString(path), ...terms]));
}

/** Device(path) { terms }. */
export function device(path: string, ...terms: Aml[]): Aml {
  return withLength([Op.ExtOpPrefix, Op.DeviceExt], concat([nameString(path), ...terms]));
}

export interface MethodFlags {
  /** 0..7 arguments. */
  args?: number;
  serialized?: boolean;
  /** 0..15, only meaningful when serialized. */
  syncLevel?: number;
}

/** Method(path, args, Serialized/NotSerialized, syncLevel) { terms }. */
export function method(path: string, flags: MethodFlags, ...terms: Aml[]): Aml {
  const args = flags.args ?? 0;
  const sync = flags.syncLevel ?? 0;
  if (!Number.isInteger(args) || args < 0 || args > 7) throw new VmmError('EINVAL', `AML method ${path}: ${args} arguments (0-7)`);
  if (!Number.isInteger(sync) || sync < 0 || sync > 15) throw new VmmError('EINVAL', `AML method ${path}: sync level ${sync} (0-15)`);
  const flagByte = args | (flags.serialized ? 0x08 : 0) | (sync << 4);
  return withLength([Op.Method], concat([nameString(path), Uint8Array.of(flagByte), ...terms]));
}

/** Return(value). */
export function ret(value: Aml): Aml {
  return concat([Uint8Array.of(Op.Return), value]);
}

/**
 * Package(n) { elements }: elements are data objects (integers, strings, packages) or names.
 * NumElements is one byte; a longer list would need VarPackage, which nothing here needs.
 */
export function pkg(...elements: Aml[]): Aml {
  if (elements.length > 255) throw new VmmError('E2BIG', `AML package of ${elements.length} elements (at most 255 without VarPackage)`);
  return withLength([Op.Package], concat([Uint8Array.of(elements.length), ...elements]));
}

/** A reference to a named object as a package element or return value. */
export function ref(path: string): Aml {
  return nameString(path);
}

/** Buffer(size) { bytes }, the size being the byte count. */
export function buffer(bytes: Uint8Array): Aml {
  return withLength([Op.Buffer], concat([int(bytes.length), bytes]));
}
