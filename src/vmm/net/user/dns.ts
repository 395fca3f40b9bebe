/**
 * DNS messages (RFC 1035), only as far as the relay needs: a query from the guest must be a
 * well-formed query (header, questions with valid names) before it is relayed to the host's
 * resolver. Also where the host's resolver address comes from (/etc/resolv.conf).
 */
import { readFileSync } from 'node:fs';
import { read16 } from './bytes.js';

export const DNS_PORT = 53;
const HEADER = 12;
const MAX_NAME = 255;

/** Skips one encoded name starting at i (labels only: compression pointers have no place in a query's questions). */
function skipName(b: Uint8Array, i: number): number | undefined {
  let total = 0;
  for (;;) {
    if (i >= b.length) return undefined;
    const len = b[i];
    if (len === 0) return i + 1;
    if (len & 0xc0) return undefined;
    total += len + 1;
    if (total > MAX_NAME || i + 1 + len > b.length) return undefined;
    i += 1 + len;
  }
}

/** True when b is a standard query with 1..16 well-formed questions and nothing malformed after them. */
export function isWellFormedQuery(b: Uint8Array): boolean {
  if (b.length < HEADER || b.length > 4096) return false;
  const flags = read16(b, 2);
  if (flags & 0x8000) return false; // a response, not a query
  const qd = read16(b, 4);
  if (qd === 0 || qd > 16) return false;
  let i = HEADER;
  for (let q = 0; q < qd; q++) {
    const next = skipName(b, i);
    if (next === undefined || next + 4 > b.length) return false;
    i = next + 4;
  }
  return true;
}

export interface ResolverAddress {
  address: string;
  port: number;
}

/** The first nameserver in /etc/resolv.conf (IPv4 or IPv6), or undefined when none is configured. */
export function systemResolver(path = '/etc/resolv.conf'): ResolverAddress | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) return { address: m[1].replace(/%.*$/, ''), port: DNS_PORT };
  }
  return undefined;
}
