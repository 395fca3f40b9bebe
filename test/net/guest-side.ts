/**
 * The guest's end of a user network in tests: builds frames as a guest would (its own IPv4 writer,
 * with options and fragments), collects what the stack sends, and waits for frames that match.
 * Waits fail with a message after a generous deadline rather than hang; no test measures time.
 */
import { internetChecksum, transportChecksum } from '../../src/vmm/net/user/checksum.js';
import { read16, read32, write16, write32 } from '../../src/vmm/net/user/bytes.js';
import { GUEST_IP, STACK_MAC } from '../../src/vmm/net/user/addresses.js';
import type { UserNetwork } from '../../src/vmm/net/user/index.js';

export const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export interface SeenIp {
  frame: Uint8Array;
  dstMac: Uint8Array;
  src: number;
  dst: number;
  protocol: number;
  id: number;
  flagsOffset: number;
  payload: Uint8Array;
}

export interface SeenTcp extends SeenIp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  options: Uint8Array;
  data: Uint8Array;
}

export interface SeenUdp extends SeenIp {
  srcPort: number;
  dstPort: number;
  data: Uint8Array;
}

const WAIT_LIMIT_MS = 10_000;

export function ipv4Packet(src: number, dst: number, protocol: number, payload: Uint8Array,
  opts: { id?: number; flagsOffset?: number; options?: Uint8Array; ttl?: number } = {}): Uint8Array {
  const options = opts.options ?? new Uint8Array(0);
  const ihl = 20 + options.length;
  const b = new Uint8Array(ihl + payload.length);
  b[0] = 0x40 | (ihl / 4);
  write16(b, 2, b.length);
  write16(b, 4, opts.id ?? 0x1234);
  write16(b, 6, opts.flagsOffset ?? 0);
  b[8] = opts.ttl ?? 64;
  b[9] = protocol;
  write32(b, 12, src);
  write32(b, 16, dst);
  b.set(options, 20);
  write16(b, 10, internetChecksum(b, 0, ihl));
  b.set(payload, ihl);
  return b;
}

export function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  write16(f, 12, type);
  f.set(payload, 14);
  return f;
}

export function udpDatagram(src: number, dst: number, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  write16(b, 0, srcPort);
  write16(b, 2, dstPort);
  write16(b, 4, b.length);
  b.set(data, 8);
  write16(b, 6, transportChecksum(src, dst, 17, b) || 0xffff);
  return b;
}

export function tcpSegment(src: number, dst: number, s: {
  srcPort: number; dstPort: number; seq: number; ack: number; flags: number; window: number;
  options?: Uint8Array; data?: Uint8Array;
}): Uint8Array {
  const options = s.options ?? new Uint8Array(0);
  const data = s.data ?? new Uint8Array(0);
  const off = 20 + options.length;
  const b = new Uint8Array(off + data.length);
  write16(b, 0, s.srcPort);
  write16(b, 2, s.dstPort);
  write32(b, 4, s.seq >>> 0);
  write32(b, 8, s.ack >>> 0);
  b[12] = (off / 4) << 4;
  b[13] = s.flags;
  write16(b, 14, s.window);
  b.set(options, 20);
  b.set(data, off);
  write16(b, 16, transportChecksum(src, dst, 6, b));
  return b;
}

export class GuestSide {
  readonly frames: Uint8Array[] = [];
  private cursor = 0;
  private wake: (() => void) | undefined;
  ip = GUEST_IP;
  mac = GUEST_MAC;

  constructor(readonly net: UserNetwork) {
    net.onReceive = (f) => {
      if (this.answerArp && this.arpRequestForUs(f)) return;
      this.frames.push(f.slice());
      this.wake?.();
    };
  }

  /** Whether the guest answers the stack's ARP requests for its address (as a real guest does). */
  answerArp = true;

  private arpRequestForUs(f: Uint8Array): boolean {
    if (f.length < 42 || read16(f, 12) !== 0x0806 || read16(f, 20) !== 1 || read32(f, 38) !== this.ip) return false;
    const reply = new Uint8Array(28);
    reply.set([0, 1, 8, 0, 6, 4, 0, 2]);
    reply.set(this.mac, 8);
    write32(reply, 14, this.ip);
    reply.set(f.subarray(22, 28), 18);
    reply.set(f.subarray(28, 32), 24);
    queueMicrotask(() => this.sendFrame(ethernet(f.subarray(6, 12), this.mac, 0x0806, reply)));
    return true;
  }

  sendFrame(frame: Uint8Array): void {
    this.net.send(frame);
  }

  sendIp(dst: number, protocol: number, payload: Uint8Array, opts: Parameters<typeof ipv4Packet>[4] = {}): void {
    this.sendFrame(ethernet(STACK_MAC, this.mac, 0x0800, ipv4Packet(this.ip, dst, protocol, payload, opts)));
  }

  sendUdp(dst: number, srcPort: number, dstPort: number, data: Uint8Array): void {
    this.sendIp(dst, 17, udpDatagram(this.ip, dst, srcPort, dstPort, data));
  }

  sendTcp(dst: number, s: Parameters<typeof tcpSegment>[2]): void {
    this.sendIp(dst, 6, tcpSegment(this.ip, dst, s));
  }

  /** Waits for the next frame (after those already taken) that matches; earlier non-matching frames are skipped. */
  async next<T>(what: string, match: (f: Uint8Array) => T | undefined): Promise<T> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const r = match(this.frames[this.cursor++]);
        if (r !== undefined) return r;
      }
      if (Date.now() > deadline) throw new Error(`guest side: no ${what} within ${WAIT_LIMIT_MS} ms (${this.frames.length} frames seen)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
      this.wake = undefined;
    }
  }

  nextTcp(what: string, pred: (s: SeenTcp) => boolean = () => true): Promise<SeenTcp> {
    return this.next(what, (f) => { const s = parseTcpFrame(f); return s && pred(s) ? s : undefined; });
  }

  nextUdp(what: string, pred: (s: SeenUdp) => boolean = () => true): Promise<SeenUdp> {
    return this.next(what, (f) => { const s = parseUdpFrame(f); return s && pred(s) ? s : undefined; });
  }

  /** Drops frames not yet taken. */
  skipAll(): void {
    this.cursor = this.frames.length;
  }
}

export function parseIpFrame(f: Uint8Array): SeenIp | undefined {
  if (f.length < 34 || read16(f, 12) !== 0x0800) return undefined;
  const ihl = (f[14] & 0xf) * 4;
  const total = read16(f, 16);
  if (internetChecksum(f, 14, 14 + ihl) !== 0) throw new Error('stack sent an IPv4 header with a bad checksum');
  return {
    frame: f, dstMac: f.subarray(0, 6), src: read32(f, 26), dst: read32(f, 30), protocol: f[23], id: read16(f, 18),
    flagsOffset: read16(f, 20), payload: f.subarray(14 + ihl, 14 + total),
  };
}

export function parseTcpFrame(f: Uint8Array): SeenTcp | undefined {
  const ip = parseIpFrame(f);
  if (!ip || ip.protocol !== 6) return undefined;
  const b = ip.payload;
  if (transportChecksum(ip.src, ip.dst, 6, b) !== 0) throw new Error('stack sent a TCP segment with a bad checksum');
  const off = (b[12] >>> 4) * 4;
  return {
    ...ip, srcPort: read16(b, 0), dstPort: read16(b, 2), seq: read32(b, 4), ack: read32(b, 8), flags: b[13],
    window: read16(b, 14), options: b.subarray(20, off), data: b.subarray(off),
  };
}

export function parseUdpFrame(f: Uint8Array): SeenUdp | undefined {
  const ip = parseIpFrame(f);
  if (!ip || ip.protocol !== 17 || (ip.flagsOffset & 0x3fff) !== 0) return undefined;
  const b = ip.payload;
  if (read16(b, 6) !== 0 && transportChecksum(ip.src, ip.dst, 17, b) !== 0) throw new Error('stack sent a UDP datagram with a bad checksum');
  return { ...ip, srcPort: read16(b, 0), dstPort: read16(b, 2), data: b.subarray(8, read16(b, 4)) };
}

/** MSS and window-scale options of a SYN as the guest would write them. */
export function synOptions(mss: number, wscale?: number): Uint8Array {
  const o = [2, 4, mss >>> 8, mss & 0xff];
  if (wscale !== undefined) o.push(1, 3, 3, wscale);
  while (o.length % 4) o.push(0);
  return Uint8Array.from(o);
}

export function tcpMssOption(options: Uint8Array): number | undefined {
  for (let i = 0; i < options.length;) {
    if (options[i] === 0) break;
    if (options[i] === 1) { i++; continue; }
    if (options[i] === 2) return read16(options, i + 2);
    i += options[i + 1];
  }
  return undefined;
}
