/** A minimal TCP endpoint on the guest side of a test: enough to open, send, receive in order and close. */
import { GuestSide, TCP, synOptions } from './guest-side.js';
import type { SeenTcp } from './guest-side.js';

export class TcpPeer {
  sndNxt: number;
  rcvNxt = 0;
  /** The window this peer advertises (unscaled). */
  window = 65535;
  readonly received: number[] = [];
  finReceived = false;
  /** The last segments seen from the stack on this connection. */
  lastSeen: SeenTcp | undefined;

  constructor(readonly guest: GuestSide, readonly remoteIp: number, readonly remotePort: number, readonly localPort: number,
    iss = 1000) {
    this.sndNxt = iss;
  }

  ours(s: SeenTcp): boolean {
    return s.src === this.remoteIp && s.srcPort === this.remotePort && s.dstPort === this.localPort;
  }

  segment(flags: number, data?: Uint8Array, seq = this.sndNxt, options?: Uint8Array): void {
    this.guest.sendTcp(this.remoteIp, {
      srcPort: this.localPort, dstPort: this.remotePort, seq, ack: this.rcvNxt, flags, window: this.window, data, options,
    });
  }

  async connect(mss = 1460, wscale?: number): Promise<SeenTcp> {
    this.segment(TCP.SYN, undefined, this.sndNxt, synOptions(mss, wscale));
    const synAck = await this.guest.nextTcp('SYN-ACK', (s) => this.ours(s) && (s.flags & TCP.SYN) !== 0);
    if (!(synAck.flags & TCP.ACK) || synAck.ack !== ((this.sndNxt + 1) >>> 0)) throw new Error(`bad SYN-ACK flags ${synAck.flags} ack ${synAck.ack}`);
    this.sndNxt = (this.sndNxt + 1) >>> 0;
    this.rcvNxt = (synAck.seq + 1) >>> 0;
    this.segment(TCP.ACK);
    return synAck;
  }

  /** Answers a SYN from the stack (hostfwd) with a SYN-ACK. */
  async accept(mss = 1460): Promise<SeenTcp> {
    const syn = await this.guest.nextTcp('SYN from the stack', (s) => s.dstPort === this.localPort && s.flags === TCP.SYN);
    this.rcvNxt = (syn.seq + 1) >>> 0;
    this.segment(TCP.SYN | TCP.ACK, undefined, this.sndNxt, synOptions(mss));
    this.sndNxt = (this.sndNxt + 1) >>> 0;
    await this.guest.nextTcp('ACK of our SYN-ACK', (s) => this.ours(s) && s.ack === this.sndNxt);
    return syn;
  }

  /** Sends data in segments of at most mss bytes (no waiting for ACKs). */
  write(data: Uint8Array, mss = 1460): void {
    for (let o = 0; o < data.length; o += mss) {
      const part = data.subarray(o, o + mss);
      this.segment(TCP.ACK | TCP.PSH, part);
      this.sndNxt = (this.sndNxt + part.length) >>> 0;
    }
  }

  fin(): void {
    this.segment(TCP.FIN | TCP.ACK);
    this.sndNxt = (this.sndNxt + 1) >>> 0;
  }

  /**
   * Takes segments from the stack until `until` holds, keeping in-order data and acknowledging
   * each segment; `drop` may refuse a segment as if the link lost it.
   */
  async pump(what: string, until: () => boolean, drop: (s: SeenTcp) => boolean = () => false): Promise<void> {
    while (!until()) {
      const s = await this.guest.nextTcp(what, (x) => this.ours(x));
      this.lastSeen = s;
      if (drop(s)) continue;
      if (s.flags & TCP.RST) throw new Error('connection reset by the stack');
      const len = s.data.length + (s.flags & TCP.FIN ? 1 : 0);
      if (s.seq === this.rcvNxt && len > 0) {
        this.received.push(...s.data);
        this.rcvNxt = (this.rcvNxt + len) >>> 0;
        if (s.flags & TCP.FIN) this.finReceived = true;
      }
      if (len > 0) this.segment(TCP.ACK);
    }
  }
}
