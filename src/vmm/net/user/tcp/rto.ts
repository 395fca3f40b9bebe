/** The retransmission timeout (RFC 6298): smoothed round-trip time and variance, Karn's rule, exponential backoff. */
export interface RtoLimits {
  initialMs: number;
  minMs: number;
  maxMs: number;
}

export class RtoEstimator {
  private srtt: number | undefined;
  private rttvar = 0;
  private base: number;
  private backoff = 0;

  constructor(private readonly limits: RtoLimits) {
    this.base = limits.initialMs;
  }

  /** The current timeout including backoff. */
  get timeoutMs(): number {
    return Math.min(this.limits.maxMs, this.base * 2 ** this.backoff);
  }

  /** A round-trip sample from a segment that was not retransmitted (Karn's rule is the caller's). */
  sample(rttMs: number): void {
    if (this.srtt === undefined) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.base = Math.max(this.limits.minMs, Math.min(this.limits.maxMs, this.srtt + 4 * this.rttvar));
  }

  backOff(): void {
    if (this.limits.initialMs * 2 ** this.backoff < this.limits.maxMs) this.backoff++;
  }

  resetBackoff(): void {
    this.backoff = 0;
  }
}
