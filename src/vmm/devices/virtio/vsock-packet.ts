/**
 * virtio-vsock packets (virtio 1.2, 5.10.6): the 44-byte little-endian header every packet starts
 * with, followed by `len` payload bytes. Shared by the device (vCPU thread) and the host-side
 * bridge (main thread). CIDs are 64-bit fields, but every CID in use fits in 32 bits (Linux and
 * Firecracker treat them as u32); a high half that is not 0 is refused as malformed.
 */
export const VSOCK_HEADER_BYTES = 44;
/** The host's CID (5.10.4: 2 is the host). */
export const VSOCK_HOST_CID = 2;
export const VSOCK_TYPE_STREAM = 1;
export const VSOCK_OP = { REQUEST: 1, RESPONSE: 2, RST: 3, SHUTDOWN: 4, RW: 5, CREDIT_UPDATE: 6, CREDIT_REQUEST: 7 } as const;
/** SHUTDOWN flags: the sender will receive no more, send no more. */
export const VSOCK_SHUTDOWN = { RCV: 1, SEND: 2 } as const;
/**
 * Payload per packet the host side sends. Linux's receive buffers have held 4 KiB after the header,
 * but kernels with "virtio/vsock: Resize receive buffers so that each SKB fits in a 4K page" (Debian
 * 12's 6.1.0-57 among them) give 3776-byte buffers, header included: the device splits a data
 * packet across smaller buffers (splitVsockPayload).
 */
export const VSOCK_MAX_PAYLOAD = 4096;
/** The largest payload accepted from the guest (Linux sends at most 64 KiB per packet). */
export const VSOCK_MAX_GUEST_PAYLOAD = 64 * 1024;

export interface VsockHeader {
  srcCid: number;
  dstCid: number;
  srcPort: number;
  dstPort: number;
  len: number;
  type: number;
  op: number;
  flags: number;
  bufAlloc: number;
  fwdCnt: number;
}

/** A packet: header fields from h (len from the payload) and the payload. */
export function encodeVsockPacket(h: Omit<VsockHeader, 'len'>, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const p = new Uint8Array(VSOCK_HEADER_BYTES + payload.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, h.srcCid, true);
  v.setUint32(8, h.dstCid, true);
  v.setUint32(16, h.srcPort, true);
  v.setUint32(20, h.dstPort, true);
  v.setUint32(24, payload.length, true);
  v.setUint16(28, h.type, true);
  v.setUint16(30, h.op, true);
  v.setUint32(32, h.flags, true);
  v.setUint32(36, h.bufAlloc, true);
  v.setUint32(40, h.fwdCnt, true);
  p.set(payload, VSOCK_HEADER_BYTES);
  return p;
}

/** The header of a packet, or why it is not one (short, CID above 32 bits, len disagreeing with the bytes). */
export function decodeVsockHeader(p: Uint8Array): VsockHeader | string {
  if (p.length < VSOCK_HEADER_BYTES) return `${p.length} bytes is shorter than the ${VSOCK_HEADER_BYTES}-byte header`;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (v.getUint32(4, true) !== 0 || v.getUint32(12, true) !== 0) return 'a CID above 32 bits';
  const h: VsockHeader = {
    srcCid: v.getUint32(0, true), dstCid: v.getUint32(8, true), srcPort: v.getUint32(16, true), dstPort: v.getUint32(20, true),
    len: v.getUint32(24, true), type: v.getUint16(28, true), op: v.getUint16(30, true), flags: v.getUint32(32, true),
    bufAlloc: v.getUint32(36, true), fwdCnt: v.getUint32(40, true),
  };
  if (h.len !== p.length - VSOCK_HEADER_BYTES) return `len ${h.len} but ${p.length - VSOCK_HEADER_BYTES} payload bytes`;
  return h;
}

/**
 * A data (RW) packet cut after `first` payload bytes into two RW packets with the same header but
 * for len: a stream's receiver counts bytes, not packets, so the cut is invisible to it.
 */
export function splitVsockPayload(packet: Uint8Array, first: number): [Uint8Array, Uint8Array] {
  const payload = packet.length - VSOCK_HEADER_BYTES;
  const op = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint16(30, true);
  if (op !== VSOCK_OP.RW || !(Number.isInteger(first) && first > 0 && first < payload)) {
    throw new RangeError(`cannot split a vsock packet (op ${op}, ${payload} payload bytes) after ${first} bytes`);
  }
  const part = (from: number, to: number): Uint8Array => {
    const p = new Uint8Array(VSOCK_HEADER_BYTES + to - from);
    p.set(packet.subarray(0, VSOCK_HEADER_BYTES));
    p.set(packet.subarray(VSOCK_HEADER_BYTES + from, VSOCK_HEADER_BYTES + to), VSOCK_HEADER_BYTES);
    new DataView(p.buffer).setUint32(24, to - from, true);
    return p;
  };
  return [part(0, first), part(first, payload)];
}
