/** UDP (RFC 768): datagram parsing with the optional checksum checked, and building. */
import { read16, write16 } from './bytes.js';
import { transportChecksum } from './checksum.js';
import { PROTO_UDP } from './ipv4.js';

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export type UdpParse = { ok: true; datagram: UdpDatagram } | { ok: false; reason: 'udp-malformed' | 'udp-checksum' };

export function parseUdp(b: Uint8Array, src: number, dst: number): UdpParse {
  if (b.length < 8) return { ok: false, reason: 'udp-malformed' };
  const len = read16(b, 4);
  if (len < 8 || len > b.length) return { ok: false, reason: 'udp-malformed' };
  const d = b.subarray(0, len);
  // A zero checksum field means the sender computed none (allowed over IPv4).
  if (read16(b, 6) !== 0 && transportChecksum(src, dst, PROTO_UDP, d) !== 0) return { ok: false, reason: 'udp-checksum' };
  return { ok: true, datagram: { srcPort: read16(b, 0), dstPort: read16(b, 2), payload: d.subarray(8) } };
}

export function buildUdp(src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  write16(b, 0, srcPort);
  write16(b, 2, dstPort);
  write16(b, 4, b.length);
  b.set(payload, 8);
  const sum = transportChecksum(src, dst, PROTO_UDP, b);
  write16(b, 6, sum === 0 ? 0xffff : sum);
  return b;
}
