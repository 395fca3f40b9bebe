/** ICMP (RFC 792): echo replies from the gateway, and destination-unreachable for refused traffic. */
import { write16 } from './bytes.js';
import { internetChecksum } from './checksum.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
/** Unreachable codes. */
export const UNREACHABLE_PORT = 3;
export const UNREACHABLE_ADMIN_PROHIBITED = 13;

export type IcmpParse =
  | { ok: true; type: number; code: number; body: Uint8Array }
  | { ok: false; reason: 'icmp-malformed' };

export function parseIcmp(b: Uint8Array): IcmpParse {
  if (b.length < 8 || internetChecksum(b) !== 0) return { ok: false, reason: 'icmp-malformed' };
  return { ok: true, type: b[0], code: b[1], body: b.subarray(4) };
}

/** The echo reply to an echo request: same identifier, sequence and data. */
export function buildEchoReply(request: Uint8Array): Uint8Array {
  const b = request.slice();
  b[0] = ICMP_ECHO_REPLY;
  b[1] = 0;
  write16(b, 2, 0);
  write16(b, 2, internetChecksum(b));
  return b;
}

/** Destination unreachable quoting the offending datagram's IP header and first 8 payload bytes. */
export function buildUnreachable(code: number, offendingHeader: Uint8Array, offendingPayload: Uint8Array): Uint8Array {
  const quoteLen = Math.min(8, offendingPayload.length);
  const b = new Uint8Array(8 + offendingHeader.length + quoteLen);
  b[0] = ICMP_UNREACHABLE;
  b[1] = code;
  b.set(offendingHeader, 8);
  b.set(offendingPayload.subarray(0, quoteLen), 8 + offendingHeader.length);
  write16(b, 2, internetChecksum(b));
  return b;
}
