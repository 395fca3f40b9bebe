/**
 * Congestion control toward the guest (RFC 5681 with NewReno recovery, RFC 6582): the link to the
 * guest is a device queue that drops when the guest does not drain it, so the stack does not pour a
 * whole receive window into it at once, and backs off after a loss.
 */
import { seqLt } from './sequence.js';

/** The initial congestion window in segments (RFC 6928). */
const INITIAL_WINDOW_SEGMENTS = 10;

export class CongestionControl {
  /** Bytes that may be in flight. */
  cwnd = 0;
  private ssthresh = 0x7fffffff;
  /** While recovering from a loss found by duplicate ACKs: the highest sequence sent at that moment. */
  private recover: number | undefined;
  private mss = 536;

  start(mss: number): void {
    this.mss = mss;
    this.cwnd = INITIAL_WINDOW_SEGMENTS * mss;
  }

  get inRecovery(): boolean {
    return this.recover !== undefined;
  }

  /**
   * New data acknowledged: grow the window (slow start, then about one segment per round trip).
   * Returns true for a partial ACK during recovery: the next segment was lost too and should be resent now.
   */
  acked(bytes: number, ack: number): boolean {
    this.cwnd += this.cwnd < this.ssthresh ? Math.min(bytes, this.mss) : Math.max(1, Math.floor((this.mss * this.mss) / this.cwnd));
    if (this.recover === undefined) return false;
    if (seqLt(ack, this.recover)) return true;
    this.recover = undefined;
    return false;
  }

  /** Three duplicate ACKs: halve the window and recover until everything sent so far is acknowledged. */
  fastRetransmit(inFlight: number, sndMax: number): void {
    this.ssthresh = Math.max(Math.floor(inFlight / 2), 2 * this.mss);
    this.cwnd = this.ssthresh;
    this.recover = sndMax;
  }

  /** A retransmission timeout: start again from one segment. */
  timeout(inFlight: number): void {
    if (inFlight > 0) {
      this.ssthresh = Math.max(Math.floor(inFlight / 2), 2 * this.mss);
      this.cwnd = this.mss;
    }
    this.recover = undefined;
  }
}
