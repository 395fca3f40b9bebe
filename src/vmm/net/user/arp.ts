/** ARP for IPv4 over Ethernet (RFC 826): the only hardware/protocol pair the stack speaks. */
import { read16, read32, write16, write32 } from './bytes.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const ARP_LENGTH = 28;

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

export type ArpParse = { ok: true; packet: ArpPacket } | { ok: false; reason: 'arp-malformed' | 'arp-unsupported' };

export function parseArp(b: Uint8Array): ArpParse {
  if (b.length < ARP_LENGTH) return { ok: false, reason: 'arp-malformed' };
  const htype = read16(b, 0), ptype = read16(b, 2), hlen = b[4], plen = b[5], op = read16(b, 6);
  if (htype !== 1 || ptype !== 0x0800 || hlen !== 6 || plen !== 4) return { ok: false, reason: 'arp-unsupported' };
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return { ok: false, reason: 'arp-unsupported' };
  return {
    ok: true,
    packet: {
      op,
      senderMac: b.slice(8, 14),
      senderIp: read32(b, 14),
      targetMac: b.slice(18, 24),
      targetIp: read32(b, 24),
    },
  };
}

export function buildArp(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(ARP_LENGTH);
  write16(b, 0, 1);
  write16(b, 2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  write16(b, 6, p.op);
  b.set(p.senderMac, 8);
  write32(b, 14, p.senderIp);
  b.set(p.targetMac, 18);
  write32(b, 24, p.targetIp);
  return b;
}
