/** The Internet checksum (RFC 1071): ones'-complement sum of 16-bit words, for IPv4, ICMP, UDP and TCP. */

/** Adds bytes[start, end) into a running 32-bit sum (not yet folded). An odd tail byte is padded with zero. */
export function sumWords(sum: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value that goes in the checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return finishChecksum(sumWords(0, bytes, start, end));
}

/** The sum of the IPv4 pseudo-header that UDP and TCP checksums cover (RFC 768, RFC 793). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** Checksum of a UDP datagram or TCP segment (header + payload) with its pseudo-header. */
export function transportChecksum(src: number, dst: number, protocol: number, segment: Uint8Array): number {
  return finishChecksum(sumWords(pseudoHeaderSum(src, dst, protocol, segment.length), segment));
}
