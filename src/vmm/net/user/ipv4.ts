/**
 * IPv4 headers (RFC 791): parsing with the header checksum and the option list checked, and building
 * packets the stack sends, fragmented when they exceed the link MTU.
 */
import { read16, read32, write16, write32 } from './bytes.js';
import { internetChecksum } from './checksum.js';
import { MTU } from './ethernet.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  id: number;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  /** The whole header including options (a view). */
  header: Uint8Array;
  /** The payload up to the total length (Ethernet padding cut off; a view). */
  payload: Uint8Array;
}

export type Ipv4Parse =
  | { ok: true; packet: Ipv4Packet }
  | { ok: false; reason: 'ipv4-malformed' | 'ipv4-checksum' | 'ipv4-options' };

/** Option kinds that are a single byte; every other kind carries a length byte (RFC 791 section 3.1). */
const OPTION_END = 0;
const OPTION_NOP = 1;

/** Walks the option list: each option must fit inside the header, and its length must count its own two bytes. */
function optionsWellFormed(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === OPTION_END) return true;
    if (kind === OPTION_NOP) { i++; continue; }
    if (i + 1 >= end) return false;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return false;
    i += len;
  }
  return true;
}

export function parseIpv4(b: Uint8Array): Ipv4Parse {
  if (b.length < 20) return { ok: false, reason: 'ipv4-malformed' };
  const version = b[0] >>> 4, ihl = (b[0] & 0xf) * 4;
  if (version !== 4 || ihl < 20 || ihl > b.length) return { ok: false, reason: 'ipv4-malformed' };
  const total = read16(b, 2);
  if (total < ihl || total > b.length) return { ok: false, reason: 'ipv4-malformed' };
  if (internetChecksum(b, 0, ihl) !== 0) return { ok: false, reason: 'ipv4-checksum' };
  if (!optionsWellFormed(b, 20, ihl)) return { ok: false, reason: 'ipv4-options' };
  const frag = read16(b, 6);
  return {
    ok: true,
    packet: {
      src: read32(b, 12),
      dst: read32(b, 16),
      protocol: b[9],
      ttl: b[8],
      id: read16(b, 4),
      moreFragments: (frag & FLAG_MF) !== 0,
      fragmentOffset: (frag & OFFSET_MASK) * 8,
      header: b.subarray(0, ihl),
      payload: b.subarray(ihl, total),
    },
  };
}

export interface Ipv4Send {
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
}

/** Numbers the stack's datagrams (the identification field used by fragment reassembly). */
export class Ipv4Builder {
  private nextId = 1;

  /** One or more IPv4 packets carrying the payload, fragmented to fit the MTU (fragments are 8-byte aligned). */
  build(p: Ipv4Send): Uint8Array[] {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0xffff;
    const maxData = (MTU - 20) & ~7;
    if (p.payload.length <= MTU - 20) return [header(p, id, 0, false, p.payload)];
    const out: Uint8Array[] = [];
    for (let off = 0; off < p.payload.length; off += maxData) {
      const chunk = p.payload.subarray(off, off + maxData);
      out.push(header(p, id, off, off + maxData < p.payload.length, chunk));
    }
    return out;
  }
}

function header(p: Ipv4Send, id: number, offset: number, more: boolean, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + data.length);
  b[0] = 0x45;
  write16(b, 2, b.length);
  write16(b, 4, id);
  write16(b, 6, (more ? FLAG_MF : 0) | (offset / 8));
  b[8] = 64;
  b[9] = p.protocol;
  write32(b, 12, p.src);
  write32(b, 16, p.dst);
  write16(b, 10, internetChecksum(b, 0, 20));
  b.set(data, 20);
  return b;
}
