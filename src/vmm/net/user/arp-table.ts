/**
 * The guest-side neighbours the stack has heard from (IPv4 -> MAC), and frames waiting for an
 * address the stack has not yet learned (sent once an ARP reply teaches it). Both bounded.
 */
const MAX_ENTRIES = 64;
const MAX_WAITING = 64;

export class ArpTable {
  private readonly entries = new Map<number, Uint8Array>();
  private readonly waiting = new Map<number, Uint8Array[]>();

  lookup(ip: number): Uint8Array | undefined {
    return this.entries.get(ip);
  }

  /** Records ip -> mac and returns the frames (without Ethernet header) that were waiting for it. */
  learn(ip: number, mac: Uint8Array): Uint8Array[] {
    if (!this.entries.has(ip) && this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(ip, mac.slice(0, 6));
    const queued = this.waiting.get(ip) ?? [];
    this.waiting.delete(ip);
    return queued;
  }

  /** Holds a packet for ip; false when the queue is full (the packet is dropped). Returns whether this is the first waiter. */
  hold(ip: number, packet: Uint8Array): 'first' | 'queued' | 'full' {
    let q = this.waiting.get(ip);
    const first = q === undefined;
    if (!q) {
      if (this.waiting.size >= MAX_ENTRIES) return 'full';
      q = [];
      this.waiting.set(ip, q);
    }
    if (q.length >= MAX_WAITING) return 'full';
    q.push(packet);
    return first ? 'first' : 'queued';
  }
}
