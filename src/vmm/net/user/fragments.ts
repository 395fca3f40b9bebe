/**
 * IPv4 fragment reassembly, bounded: a few datagrams in progress at once, each at most 64 KiB, each
 * dropped when not complete within a deadline. Overlapping fragments drop the whole datagram (as
 * RFC 5722 asks of IPv6: overlaps are how fragment attacks rewrite headers).
 */
import type { DropReason } from './counters.js';
import type { Ipv4Packet } from './ipv4.js';

const MAX_DATAGRAM = 65535 - 20;

interface Piece { offset: number; data: Uint8Array }

interface Reassembly {
  pieces: Piece[];
  /** Payload length, known once the last fragment (MF clear) has arrived. */
  total: number | undefined;
  deadline: number;
  /** The first fragment's header, which the reassembled datagram keeps. */
  first: Ipv4Packet | undefined;
}

export interface ReassemblyLimits {
  maxDatagrams: number;
  timeoutMs: number;
}

export type ReassemblyResult =
  | { kind: 'complete'; packet: Ipv4Packet }
  | { kind: 'pending' }
  | { kind: 'dropped'; reason: DropReason };

export class FragmentReassembler {
  private readonly table = new Map<string, Reassembly>();

  constructor(private readonly limits: ReassemblyLimits, private readonly onExpired: () => void) {}

  get inProgress(): number {
    return this.table.size;
  }

  /** Adds one fragment; returns the whole datagram when this fragment completes it. */
  add(p: Ipv4Packet, now: number): ReassemblyResult {
    this.expire(now);
    const key = `${p.src}/${p.dst}/${p.protocol}/${p.id}`;
    const end = p.fragmentOffset + p.payload.length;
    // Every fragment but the last carries a multiple of 8 bytes (RFC 791), and none reaches past 64 KiB.
    if ((p.moreFragments && (p.payload.length === 0 || p.payload.length % 8 !== 0))) {
      return this.dropKey(key, 'fragment-malformed');
    }
    if (end > MAX_DATAGRAM) return this.dropKey(key, 'fragment-too-big');
    let r = this.table.get(key);
    if (!r) {
      if (this.table.size >= this.limits.maxDatagrams) return { kind: 'dropped', reason: 'fragment-table-full' };
      r = { pieces: [], total: undefined, deadline: now + this.limits.timeoutMs, first: undefined };
      this.table.set(key, r);
    }
    if (!p.moreFragments) {
      if (r.total !== undefined && r.total !== end) return this.dropKey(key, 'fragment-malformed');
      r.total = end;
    }
    if (r.total !== undefined && end > r.total) return this.dropKey(key, 'fragment-malformed');
    for (const q of r.pieces) {
      if (p.fragmentOffset < q.offset + q.data.length && q.offset < end) return this.dropKey(key, 'fragment-overlap');
    }
    r.pieces.push({ offset: p.fragmentOffset, data: p.payload.slice() });
    if (p.fragmentOffset === 0) r.first = { ...p, header: p.header.slice() };
    if (r.total === undefined || r.first === undefined) return { kind: 'pending' };
    let covered = 0;
    for (const q of r.pieces) covered += q.data.length;
    if (covered !== r.total) return { kind: 'pending' };
    const payload = new Uint8Array(r.total);
    for (const q of r.pieces) payload.set(q.data, q.offset);
    this.table.delete(key);
    return { kind: 'complete', packet: { ...r.first, moreFragments: false, fragmentOffset: 0, payload } };
  }

  private dropKey(key: string, reason: DropReason): ReassemblyResult {
    this.table.delete(key);
    return { kind: 'dropped', reason };
  }

  /** Forgets datagrams whose deadline passed (checked on arrival: no timer keeps the process alive). */
  private expire(now: number): void {
    for (const [key, r] of this.table) {
      if (r.deadline <= now) { this.table.delete(key); this.onExpired(); }
    }
  }
}
