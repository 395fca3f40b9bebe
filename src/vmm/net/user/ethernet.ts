/** Ethernet II framing: destination MAC, source MAC, EtherType, payload (no FCS; no 802.1Q tags). */
import { read16, write16 } from './bytes.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERNET_HEADER = 14;
/** The largest frame the stack takes or makes: a 1500-byte MTU plus the header. */
export const MAX_FRAME = 1514;
export const MTU = 1500;

export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  payload: Uint8Array;
}

/** Parses a frame (views into the bytes, no copy), or undefined when it is too short to hold a header. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < ETHERNET_HEADER) return undefined;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    type: read16(frame, 12),
    payload: frame.subarray(ETHERNET_HEADER),
  };
}

export function buildEthernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ETHERNET_HEADER + payload.length);
  out.set(dst.subarray(0, 6), 0);
  out.set(src.subarray(0, 6), 6);
  write16(out, 12, type);
  out.set(payload, ETHERNET_HEADER);
  return out;
}
