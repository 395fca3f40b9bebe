/**
 * One TCP connection between the guest and the stack, bridged to a host socket (RFC 793 state
 * machine). The stack is the guest's peer: for a guest-initiated connection it answers the SYN once
 * the host socket has connected (so a refused host port becomes a RST), for a host-forwarded one it
 * sends the SYN itself. Data from the host socket waits in a queue until the guest acknowledges it
 * and is sent no faster than the guest's window allows; the host socket is paused while that queue
 * is full. Data from the guest goes to the host socket in order, and the window advertised to the
 * guest shrinks with what the host socket has not yet taken.
 */
import type { Socket } from 'node:net';
import { ByteQueue } from './byte-queue.js';
import { CongestionControl } from './congestion.js';
import { OutOfOrderQueue } from './out-of-order.js';
import { RtoEstimator } from './rto.js';
import type { RtoLimits } from './rto.js';
import { ACK, FIN, PSH, RST, SYN } from './segment.js';
import type { TcpBuild, TcpSegment } from './segment.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt } from './sequence.js';

export type TcpState =
  | 'connecting' // guest SYN seen, host socket not yet connected, nothing sent
  | 'syn-sent' | 'syn-received' | 'established' | 'fin-wait-1' | 'fin-wait-2' | 'closing'
  | 'time-wait' | 'close-wait' | 'last-ack' | 'closed';

/** What the connection sends: one segment toward the guest. */
export type SegmentOut = Omit<TcpBuild, 'src' | 'dst' | 'srcPort' | 'dstPort'>;

export interface TcpTuning {
  rto: RtoLimits;
  /** Host-to-guest bytes held before the host socket is paused. */
  sendBuffer: number;
  /** The receive window offered to the guest (bytes not yet taken by the host socket count against it). */
  receiveBuffer: number;
  timeWaitMs: number;
  /** Retransmissions of one segment before the connection is given up with a RST. */
  maxRetries: number;
}

/** Our MSS: the 1500-byte MTU less the IPv4 and TCP headers. */
export const OUR_MSS = 1460;
/** The window shift we offer; 2^3 * 65535 covers a receive buffer of up to 512 KiB. */
export const OUR_WINDOW_SHIFT = 3;
/** The MSS assumed when the guest's SYN has none (RFC 1122). */
const DEFAULT_MSS = 536;
/** How long an acknowledgement for a lone full-sized segment may wait for a second one. */
const DELAYED_ACK_MS = 20;
/**
 * Out-of-order segments held at most, and their bytes at most the receive buffer: without SACK a
 * sender learns of one hole per round trip, so everything after a loss that fits the window is kept.
 */
const MAX_OUT_OF_ORDER = 512;

export interface ConnectionHooks {
  emit(seg: SegmentOut): void;
  /** Called once when the connection is gone (closed, reset or given up): the table forgets it. */
  closed(): void;
}

export class TcpConnection {
  state: TcpState;
  private readonly hooks: ConnectionHooks;
  private readonly tuning: TcpTuning;
  private readonly rto: RtoEstimator;
  private socket: Socket | undefined;
  private pending: Socket | undefined;

  // Send side (stack -> guest).
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  private readonly congestion = new CongestionControl();
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndShift = 0;
  private rcvShift = 0;
  private mss = DEFAULT_MSS;
  private readonly queue = new ByteQueue();
  private finQueued = false;
  /** The sequence number of our FIN, once sent (a retransmission timeout moves sndNxt back, not this). */
  private finSeq: number | undefined;
  /** The highest sequence number sent so far: ACKs up to here are valid even after sndNxt went back for a retransmission. */
  private sndMax = 0;
  private dupAcks = 0;
  private retries = 0;
  private timer: NodeJS.Timeout | undefined;
  private delayedAck: NodeJS.Timeout | undefined;
  /** Full-sized guest segments taken and not yet acknowledged. */
  private unackedSegments = 0;
  private rttSeq: number | undefined;
  private rttStart = 0;
  private socketPaused = false;

  // Receive side (guest -> stack).
  private irs = 0;
  private rcvNxt = 0;
  private readonly outOfOrder: OutOfOrderQueue;
  private remoteFin: number | undefined;
  /** The right edge of the last window offered to the guest (a window never shrinks, RFC 793 p. 42). */
  private advertisedEdge = 0;
  private ended = false;

  constructor(state: 'connecting' | 'syn-sent', hooks: ConnectionHooks, tuning: TcpTuning, iss: number) {
    this.state = state;
    this.hooks = hooks;
    this.tuning = tuning;
    this.rto = new RtoEstimator(tuning.rto);
    this.outOfOrder = new OutOfOrderQueue(MAX_OUT_OF_ORDER, tuning.receiveBuffer);
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
  }

  /** Guest-initiated: remembers the guest's SYN; the SYN-ACK waits for hostConnected(). */
  acceptSyn(syn: TcpSegment): void {
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.takeSynOptions(syn, syn.windowScale !== undefined);
  }

  /** Guest-initiated: the host socket being connected (destroyed if the connection goes first). */
  connecting(socket: Socket): void {
    this.pending = socket;
  }

  /** Guest-initiated: the host socket connected; answer the guest's SYN. */
  hostConnected(socket: Socket): void {
    this.pending = undefined;
    if (this.state !== 'connecting') { socket.destroy(); return; }
    this.attach(socket);
    this.state = 'syn-received';
    this.sendSyn();
  }

  /** Guest-initiated: the host refused or failed; refuse the guest's SYN with a RST. */
  hostRefused(): void {
    this.pending = undefined;
    if (this.state !== 'connecting') return;
    this.hooks.emit({ seq: 0, ack: this.rcvNxt, flags: RST | ACK, window: 0 });
    this.finish();
  }

  /** Host-forwarded: the stack opens the connection toward the guest for this host socket. */
  open(socket: Socket): void {
    this.attach(socket);
    socket.pause();
    this.socketPaused = true;
    this.sendSyn();
  }

  /** Resets the connection from the stack's side (the stack closes, or the table needs the slot). */
  abort(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'connecting' && this.state !== 'time-wait') {
      this.hooks.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: RST | ACK, window: 0 });
    }
    this.socket?.resetAndDestroy();
    this.finish();
  }

  /** Host bytes held for the guest (sent and unacknowledged, or waiting for the guest's window). */
  get queuedForGuest(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.hostData(chunk));
    socket.on('end', () => { this.finQueued = true; this.transmit(false); });
    socket.on('drain', () => this.windowUpdate());
    socket.on('error', () => this.hostFailed());
    socket.on('close', () => { if (!this.ended || !this.finQueued) this.hostFailed(); });
  }

  private takeSynOptions(seg: TcpSegment, scaling: boolean): void {
    this.mss = Math.max(64, Math.min(seg.mss ?? DEFAULT_MSS, OUR_MSS));
    this.congestion.start(this.mss);
    if (scaling && seg.windowScale !== undefined) {
      this.sndShift = seg.windowScale;
      this.rcvShift = OUR_WINDOW_SHIFT;
    }
    // The window of a SYN is never scaled (RFC 7323 section 2.2).
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
  }

  private sendSyn(): void {
    const synAck = this.state === 'syn-received';
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.advertisedEdge = seqAdd(this.rcvNxt, Math.min(this.tuning.receiveBuffer, 0xffff));
    this.hooks.emit({
      seq: this.iss, ack: synAck ? this.rcvNxt : 0, flags: synAck ? SYN | ACK : SYN,
      window: Math.min(this.tuning.receiveBuffer, 0xffff), mss: OUR_MSS,
      // A SYN-ACK offers scaling only when the guest's SYN did; our own SYN always offers it.
      windowScale: synAck ? (this.rcvShift ? OUR_WINDOW_SHIFT : undefined) : OUR_WINDOW_SHIFT,
    });
    this.armTimer();
  }

  /** The window we offer: what the receive buffer has left after the bytes the host socket still holds. */
  private receiveWindow(): number {
    const held = this.socket?.writableLength ?? 0;
    const free = Math.max(0, this.tuning.receiveBuffer - held);
    return Math.min(free >>> this.rcvShift, 0xffff);
  }

  /** The window field for an outgoing segment; remembers the edge it offers. */
  private advertise(): number {
    this.unackedSegments = 0;
    if (this.delayedAck !== undefined) { clearTimeout(this.delayedAck); this.delayedAck = undefined; }
    const window = this.receiveWindow();
    const edge = seqAdd(this.rcvNxt, window << this.rcvShift);
    if (seqGt(edge, this.advertisedEdge)) this.advertisedEdge = edge;
    return window;
  }

  /** How many bytes beyond rcvNxt the guest may send: up to the furthest edge offered. */
  private windowLimit(): number {
    return Math.max(0, seqDiff(this.advertisedEdge, this.rcvNxt), this.receiveWindow() << this.rcvShift);
  }

  private sendAck(): void {
    const window = this.advertise();
    this.hooks.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: ACK, window });
  }

  /** A segment from the guest for this connection. */
  receive(seg: TcpSegment): void {
    switch (this.state) {
      case 'closed': return;
      case 'connecting':
        // Waiting for the host socket; the guest retransmits its SYN meanwhile. A RST cancels.
        if (seg.flags & RST) { this.socket?.destroy(); this.finish(); }
        return;
      case 'syn-sent': this.receiveInSynSent(seg); return;
      default: this.receiveSynchronized(seg);
    }
  }

  private receiveInSynSent(seg: TcpSegment): void {
    const ackOk = (seg.flags & ACK) !== 0 && seg.ack === seqAdd(this.iss, 1);
    if ((seg.flags & ACK) && !ackOk) {
      if (!(seg.flags & RST)) this.hooks.emit({ seq: seg.ack, ack: 0, flags: RST, window: 0 });
      return;
    }
    if (seg.flags & RST) {
      if (ackOk) { this.socket?.resetAndDestroy(); this.finish(); }
      return;
    }
    if (!(seg.flags & SYN) || !ackOk) return; // simultaneous open is not something a forwarded port needs
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    // Our SYN offered its window before the guest's sequence numbers were known: the edge starts here.
    this.advertisedEdge = this.rcvNxt;
    this.takeSynOptions(seg, seg.windowScale !== undefined);
    this.sndUna = this.sndNxt;
    this.retries = 0;
    this.rto.resetBackoff();
    this.clearTimer();
    this.state = 'established';
    this.sendAck();
    this.resumeSocket();
    this.transmit(false);
  }

  private segmentAcceptable(seg: TcpSegment): boolean {
    const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
    const wnd = this.windowLimit();
    const end = seqAdd(this.rcvNxt, wnd);
    const inWindow = (s: number): boolean => seqLe(this.rcvNxt, s) && seqLt(s, end);
    if (len === 0) return wnd === 0 ? seg.seq === this.rcvNxt : inWindow(seg.seq) || seg.seq === this.rcvNxt;
    if (wnd === 0) return false;
    return inWindow(seg.seq) || inWindow(seqAdd(seg.seq, len - 1));
  }

  private receiveSynchronized(seg: TcpSegment): void {
    if (this.state === 'time-wait' && (seg.flags & FIN)) { this.sendAck(); return; }
    // The guest sent its SYN again: our SYN-ACK was lost; send it again rather than wait for the timer.
    if (this.state === 'syn-received' && (seg.flags & (SYN | ACK | RST)) === SYN && seg.seq === this.irs) { this.sendSyn(); return; }
    if (!this.segmentAcceptable(seg)) {
      // Old duplicates and probes beyond the window get an ACK that says where we are (RFC 793 p. 69).
      if (!(seg.flags & RST)) this.sendAck();
      return;
    }
    if (seg.flags & RST) { this.socket?.resetAndDestroy(); this.finish(); return; }
    if (seg.flags & SYN) {
      // A SYN inside a synchronized connection (RFC 793 p. 71): the guest has lost it; reset.
      this.abort();
      return;
    }
    if (!(seg.flags & ACK)) return;
    if (this.state === 'syn-received') {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndNxt))) {
        this.hooks.emit({ seq: seg.ack, ack: 0, flags: RST, window: 0 });
        return;
      }
      this.state = 'established';
      this.sndUna = seqAdd(this.iss, 1);
      this.sndWnd = seg.window << this.sndShift;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.clearTimer();
      this.retries = 0;
      this.rto.resetBackoff();
    }
    if (!this.processAck(seg)) return;
    if (this.state === 'closed' || this.state === 'time-wait') return;
    const owed = this.processData(seg);
    const sent = this.transmit(false);
    if (sent || !owed) return;
    // Full-sized in-order data is acknowledged every second segment (RFC 1122 4.2.3.2, RFC 5681 4.2), with a
    // short timer for an odd one; everything else (small or pushed data, gaps, FIN) at once.
    if (owed === 'delay' && ++this.unackedSegments < 2) {
      if (this.delayedAck === undefined) {
        this.delayedAck = setTimeout(() => { this.delayedAck = undefined; if (this.unackedSegments > 0) this.sendAck(); }, DELAYED_ACK_MS);
        this.delayedAck.unref();
      }
      return;
    }
    this.sendAck();
  }

  /** ACK processing (RFC 793 p. 72); false when the segment must not be processed further. */
  private processAck(seg: TcpSegment): boolean {
    if (seqGt(seg.ack, this.sndMax)) { this.sendAck(); return false; }
    this.retries = 0;
    const advanced = seqGt(seg.ack, this.sndUna);
    if (advanced) {
      const dataEnd = seqAdd(this.iss, 1 + this.queueBase + this.queue.length);
      const ackedData = seqDiff(seqLe(seg.ack, dataEnd) ? seg.ack : dataEnd, seqAdd(this.iss, 1 + this.queueBase));
      if (ackedData > 0) { this.queue.consume(ackedData); this.queueBase += ackedData; }
      if (this.rttSeq !== undefined && seqLe(this.rttSeq, seg.ack)) {
        this.rto.sample(Date.now() - this.rttStart);
        this.rttSeq = undefined;
      }
      const acked = seqDiff(seg.ack, this.sndUna);
      this.sndUna = seg.ack;
      // After a timeout sent sndNxt back, an ACK for what had been sent before moves it forward again.
      if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      this.rto.resetBackoff();
      this.dupAcks = 0;
      this.clearTimer();
      // A partial ACK in recovery means the next segment was lost too: resend it now, not after a timeout.
      if (this.congestion.acked(acked, seg.ack)) this.retransmitHead();
      if (this.sndUna !== this.sndNxt) this.armTimer();
      if (this.socketPaused && this.queue.length < this.tuning.sendBuffer / 2 && this.state !== 'syn-sent') this.resumeSocket();
    } else if (seg.ack === this.sndUna && seg.payload.length === 0 && !(seg.flags & FIN) &&
      this.sndUna !== this.sndNxt && (seg.window << this.sndShift) === this.sndWnd) {
      if (++this.dupAcks === 3 && !this.congestion.inRecovery) this.fastRetransmit();
    }
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
      this.sndWnd = seg.window << this.sndShift;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
    }
    const finAcked = this.finSeq !== undefined && this.sndUna === seqAdd(this.finSeq, 1);
    if (finAcked) {
      switch (this.state) {
        case 'fin-wait-1': this.state = 'fin-wait-2'; break;
        case 'closing': this.enterTimeWait(); return false;
        case 'last-ack': this.finish(); return false;
        default: break;
      }
    }
    return true;
  }

  /** Bytes of the queue already acknowledged and dropped: the queue starts at iss + 1 + queueBase. */
  private queueBase = 0;

  /** Takes the guest's data and FIN in order; whether an ACK is owed, now or (for plain full-sized data) soon. */
  private processData(seg: TcpSegment): false | 'now' | 'delay' {
    if (this.state !== 'established' && this.state !== 'fin-wait-1' && this.state !== 'fin-wait-2') {
      return seg.payload.length > 0 || (seg.flags & FIN) !== 0 ? 'now' : false;
    }
    let owed: false | 'now' | 'delay' = false;
    // Bytes beyond the window offered are cut off (and a FIN after them with them).
    const room = seqDiff(seqAdd(this.rcvNxt, this.windowLimit()), seg.seq);
    let payload = seg.payload;
    let fin = (seg.flags & FIN) !== 0;
    if (payload.length > room) { payload = payload.subarray(0, Math.max(0, room)); fin = false; }
    if (fin) this.remoteFin = seqAdd(seg.seq, payload.length);
    if (payload.length > 0) {
      owed = 'now';
      if (seqLe(seg.seq, this.rcvNxt)) {
        const hadGap = this.outOfOrder.size > 0;
        const inOrder = seg.seq === this.rcvNxt;
        this.deliver(seg.seq, payload);
        this.drainOutOfOrder();
        if (inOrder && !hadGap && !fin && !(seg.flags & PSH) && payload.length >= OUR_MSS) owed = 'delay'; // a full segment of our MSS
      } else {
        this.outOfOrder.add(seg.seq, payload);
      }
    }
    if (this.remoteFin !== undefined && this.remoteFin === this.rcvNxt) {
      owed = 'now';
      this.remoteFin = undefined;
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.ended = true;
      this.socket?.end();
      switch (this.state) {
        case 'established': this.state = 'close-wait'; break;
        case 'fin-wait-1': this.state = 'closing'; break;
        case 'fin-wait-2': this.enterTimeWait(); this.sendAck(); return false;
        default: break;
      }
    } else if (fin) {
      owed = 'now';
    }
    return owed;
  }

  /** Writes the part of [seq, seq+len) beyond rcvNxt to the host socket. */
  private deliver(seq: number, data: Uint8Array): void {
    const skip = seqDiff(this.rcvNxt, seq);
    if (skip >= data.length) return;
    const fresh = data.subarray(skip);
    this.rcvNxt = seqAdd(this.rcvNxt, fresh.length);
    if (this.socket && !this.socket.destroyed && this.socket.writable) this.socket.write(Buffer.from(fresh));
  }

  private drainOutOfOrder(): void {
    this.outOfOrder.drain(() => this.rcvNxt, (seq, data) => this.deliver(seq, data));
  }

  private hostData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.queue.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    if (this.queue.length >= this.tuning.sendBuffer && !this.socketPaused) {
      this.socket?.pause();
      this.socketPaused = true;
    }
    this.transmit(false);
  }

  private resumeSocket(): void {
    if (!this.socketPaused) return;
    this.socketPaused = false;
    this.socket?.resume();
  }

  /** The host socket took what it held: tell the guest the window opened (when we had closed it noticeably). */
  private windowUpdate(): void {
    if (this.state === 'closed' || this.state === 'time-wait') return;
    if (seqDiff(this.advertisedEdge, this.rcvNxt) < this.tuning.receiveBuffer / 2) this.sendAck();
  }

  /**
   * Sends what the guest's window allows; a probe sends one byte into a zero window (RFC 1122
   * 4.2.2.17). Returns whether any segment went out.
   */
  private transmit(probe: boolean): boolean {
    if (this.state !== 'established' && this.state !== 'close-wait' &&
      this.state !== 'fin-wait-1' && this.state !== 'closing' && this.state !== 'last-ack') return false;
    let sent = false;
    for (;;) {
      const offset = seqDiff(this.sndNxt, seqAdd(this.iss, 1 + this.queueBase));
      const available = this.queue.length - offset;
      let usable = seqDiff(seqAdd(this.sndUna, Math.min(this.sndWnd, this.congestion.cwnd)), this.sndNxt);
      if (probe && !sent && this.sndNxt === this.sndUna) usable = Math.max(usable, 1);
      if (available > 0 && usable > 0) {
        const n = Math.min(available, usable, this.mss);
        const payload = this.queue.read(offset, n);
        const window = this.advertise();
        this.hooks.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: ACK | (n === available ? PSH : 0), window, payload });
        if (this.rttSeq === undefined && this.retries === 0) { this.rttSeq = seqAdd(this.sndNxt, n); this.rttStart = Date.now(); }
        this.sndNxt = seqAdd(this.sndNxt, n);
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        sent = true;
        continue;
      }
      if (available <= 0 && this.finQueued && (this.finSeq === undefined || this.sndNxt === this.finSeq)) {
        const window = this.advertise();
        this.hooks.emit({ seq: this.sndNxt, ack: this.rcvNxt, flags: FIN | ACK, window });
        if (this.finSeq === undefined) {
          this.finSeq = this.sndNxt;
          if (this.state === 'established') this.state = 'fin-wait-1';
          else if (this.state === 'close-wait') this.state = 'last-ack';
        }
        this.sndNxt = seqAdd(this.sndNxt, 1);
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        sent = true;
      }
      break;
    }
    const pending = this.queue.length - seqDiff(this.sndNxt, seqAdd(this.iss, 1 + this.queueBase)) > 0;
    if ((this.sndNxt !== this.sndUna || (pending && this.sndWnd === 0)) && this.timer === undefined) this.armTimer();
    return sent;
  }

  private fastRetransmit(): void {
    this.congestion.fastRetransmit(seqDiff(this.sndNxt, this.sndUna), this.sndMax);
    this.retransmitHead();
  }

  /** Sends the oldest unacknowledged segment again. */
  private retransmitHead(): void {
    const offset = seqDiff(this.sndUna, seqAdd(this.iss, 1 + this.queueBase));
    const n = Math.min(this.queue.length - offset, this.mss);
    if (n <= 0) return;
    this.rttSeq = undefined;
    this.hooks.emit({ seq: this.sndUna, ack: this.rcvNxt, flags: ACK, window: this.advertise(), payload: this.queue.read(offset, n) });
  }

  private armTimer(): void {
    this.clearTimer();
    this.timer = setTimeout(() => { this.timer = undefined; this.timeout(); }, this.rto.timeoutMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The retransmission (or persist) timer fired: go back to the oldest unacknowledged byte and resend. */
  private timeout(): void {
    if (this.state === 'closed') return;
    if (this.state === 'time-wait') { this.finish(); return; }
    if (++this.retries > this.tuning.maxRetries) { this.abort(); return; }
    this.rto.backOff();
    this.congestion.timeout(seqDiff(this.sndNxt, this.sndUna));
    this.rttSeq = undefined; // Karn: no RTT samples from retransmitted segments
    if (this.state === 'syn-sent' || this.state === 'syn-received') { this.sendSyn(); return; }
    this.sndNxt = this.sndUna;
    this.transmit(true);
    if (this.timer === undefined) this.armTimer();
  }

  private enterTimeWait(): void {
    this.state = 'time-wait';
    this.clearTimer();
    this.timer = setTimeout(() => { this.timer = undefined; this.finish(); }, this.tuning.timeWaitMs);
    this.timer.unref();
  }

  /** The host socket failed or closed under us: reset the guest's side. */
  private hostFailed(): void {
    if (this.state === 'closed' || this.state === 'time-wait') return;
    this.abort();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer();
    if (this.delayedAck !== undefined) clearTimeout(this.delayedAck);
    this.delayedAck = undefined;
    this.outOfOrder.clear();
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    this.pending?.destroy();
    this.pending = undefined;
    this.hooks.closed();
  }
}
