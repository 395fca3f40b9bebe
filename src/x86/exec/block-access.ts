/**
 * An optional capability of a context (ExecContext) for the layers whose memory operands are
 * wider than 8 bytes (SSE's 16-byte operands, x87's 10-byte values and environment images):
 * move the whole operand at once. A context that provides it decides how the bytes travel (the
 * assists: every page translated first, then MMIO in ascending pieces of 8, 4, 2, 1 bytes); one
 * that does not (the soft CPU) gets the layer's own sequence of 1-8 byte accesses.
 */
export interface BlockAccess {
  /** Reads out.length bytes at seg:addr into out; every fault is raised before any byte is read. */
  readBlock?(seg: number, addr: number, out: Uint8Array): void;
  /** Writes bytes at seg:addr; every fault is raised before any byte is written. */
  writeBlock?(seg: number, addr: number, bytes: Uint8Array): void;
}
