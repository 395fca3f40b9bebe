/** TCP segments (RFC 793, options from RFC 7323 and RFC 2018): parsing with the checksum and option list checked, and building. */
import { read16, read32, write16, write32 } from '../bytes.js';
import { transportChecksum } from '../checksum.js';
import { PROTO_TCP } from '../ipv4.js';

export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Options this stack uses; the rest (SACK, timestamps) are checked for form and ignored. */
  mss: number | undefined;
  windowScale: number | undefined;
  payload: Uint8Array;
}

export type TcpParse = { ok: true; segment: TcpSegment } | { ok: false; reason: 'tcp-malformed' | 'tcp-checksum' };

const OPT_END = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WSCALE = 3;
/** The largest shift RFC 7323 allows. */
export const MAX_WINDOW_SHIFT = 14;

export function parseTcp(b: Uint8Array, src: number, dst: number): TcpParse {
  if (b.length < 20) return { ok: false, reason: 'tcp-malformed' };
  const offset = (b[12] >>> 4) * 4;
  if (offset < 20 || offset > b.length) return { ok: false, reason: 'tcp-malformed' };
  if (transportChecksum(src, dst, PROTO_TCP, b) !== 0) return { ok: false, reason: 'tcp-checksum' };
  let mss: number | undefined, windowScale: number | undefined;
  for (let i = 20; i < offset;) {
    const kind = b[i];
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) { i++; continue; }
    if (i + 1 >= offset) return { ok: false, reason: 'tcp-malformed' };
    const len = b[i + 1];
    if (len < 2 || i + len > offset) return { ok: false, reason: 'tcp-malformed' };
    if (kind === OPT_MSS) {
      if (len !== 4) return { ok: false, reason: 'tcp-malformed' };
      mss = read16(b, i + 2);
    } else if (kind === OPT_WSCALE) {
      if (len !== 3) return { ok: false, reason: 'tcp-malformed' };
      windowScale = Math.min(b[i + 2], MAX_WINDOW_SHIFT);
    }
    i += len;
  }
  return {
    ok: true,
    segment: {
      srcPort: read16(b, 0),
      dstPort: read16(b, 2),
      seq: read32(b, 4),
      ack: read32(b, 8),
      flags: b[13] & 0x3f,
      window: read16(b, 14),
      mss,
      windowScale,
      payload: b.subarray(offset),
    },
  };
}

export interface TcpBuild {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  windowScale?: number;
  payload?: Uint8Array;
}

export function buildTcp(s: TcpBuild): Uint8Array {
  const opts: number[] = [];
  if (s.mss !== undefined) opts.push(OPT_MSS, 4, s.mss >>> 8, s.mss & 0xff);
  if (s.windowScale !== undefined) opts.push(OPT_NOP, OPT_WSCALE, 3, s.windowScale);
  const header = 20 + opts.length;
  const payload = s.payload ?? new Uint8Array(0);
  const b = new Uint8Array(header + payload.length);
  write16(b, 0, s.srcPort);
  write16(b, 2, s.dstPort);
  write32(b, 4, s.seq);
  write32(b, 8, s.ack);
  b[12] = (header / 4) << 4;
  b[13] = s.flags;
  write16(b, 14, s.window);
  b.set(opts, 20);
  b.set(payload, header);
  write16(b, 16, transportChecksum(s.src, s.dst, PROTO_TCP, b));
  return b;
}
