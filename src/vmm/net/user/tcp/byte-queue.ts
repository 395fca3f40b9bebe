/** The bytes a connection holds for the guest until it acknowledges them: append at the end, read at an offset, drop from the front. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes already consumed from chunks[0]
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.total += bytes.length;
  }

  /** A copy of up to n bytes starting at offset from the front. */
  read(offset: number, n: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(n, this.total - offset)));
    let skip = offset + this.head, o = 0;
    for (const c of this.chunks) {
      if (o >= out.length) break;
      if (skip >= c.length) { skip -= c.length; continue; }
      const part = c.subarray(skip, skip + (out.length - o));
      out.set(part, o);
      o += part.length;
      skip = 0;
    }
    return out;
  }

  consume(n: number): void {
    n = Math.min(n, this.total);
    this.total -= n;
    while (n > 0) {
      const left = this.chunks[0].length - this.head;
      if (n < left) { this.head += n; return; }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
