/**
 * The device side of a split virtqueue (virtio 1.x, 2.7): the descriptor table, the driver
 * ("available") ring and the device ("used") ring in guest memory.
 *
 * Everything here is written by the guest, so every walk is bounded and every address checked:
 * a chain may hold at most Queue Size descriptors (plus at most VIRTQ_MAX_INDIRECT in one
 * indirect table), indices are checked against their table, the available index may run at most
 * Queue Size ahead, and each buffer must lie in RAM. A violation throws VmmError 'EINVAL' (or
 * 'EFAULT' from guest memory) and the transport marks the device DEVICE_NEEDS_RESET.
 */
import { VmmError, hex } from '../../../api/errors.js';
import { readU16, readU32, readU64, writeU16, writeU32, type GuestMemory } from '../../bus/guest-memory.js';
import { DescriptorChain, type Segment } from './chain.js';
import {
  VIRTIO_MSI_NO_VECTOR, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F, VIRTQ_DESC_SIZE, VIRTQ_MAX_INDIRECT, VIRTQ_MAX_SIZE,
} from './constants.js';

function malformed(message: string): VmmError {
  return new VmmError('EINVAL', `virtqueue: ${message}`);
}

export class SplitQueue {
  /** As the driver programs it through the common configuration. */
  size: number;
  enabled = false;
  /** The descriptor table, driver ring and device ring addresses as written: low, high dword each. */
  readonly addressWords = new Uint32Array(6);
  msixVector = VIRTIO_MSI_NO_VECTOR;
  /** Negotiated VIRTIO_F_EVENT_IDX / VIRTIO_F_INDIRECT_DESC. */
  eventIdx = false;
  indirect = false;
  /** The next available-ring slot the device will read, and the device's used index. */
  lastAvail = 0;
  usedIdx = 0;

  constructor(readonly index: number, readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > VIRTQ_MAX_SIZE || (maxSize & (maxSize - 1)) !== 0) {
      throw new VmmError('EINVAL', `queue size ${maxSize} must be a power of two up to ${VIRTQ_MAX_SIZE}`);
    }
    this.size = maxSize;
  }

  get descAddr(): number { return this.address(0); }
  set descAddr(gpa: number) { this.setAddress(0, gpa); }
  get driverAddr(): number { return this.address(1); }
  set driverAddr(gpa: number) { this.setAddress(1, gpa); }
  get deviceAddr(): number { return this.address(2); }
  set deviceAddr(gpa: number) { this.setAddress(2, gpa); }

  reset(): void {
    this.size = this.maxSize;
    this.enabled = false;
    this.addressWords.fill(0);
    this.msixVector = VIRTIO_MSI_NO_VECTOR;
    this.eventIdx = this.indirect = false;
    this.lastAvail = this.usedIdx = 0;
  }

  /** Checks what the driver programmed before the queue goes live (2.7: sizes and alignments). */
  validate(mem: GuestMemory): void {
    const n = this.size;
    if (n < 1 || n > this.maxSize || (n & (n - 1)) !== 0) throw malformed(`queue ${this.index}: size ${n} is not a power of two up to ${this.maxSize}`);
    const areas: [string, number, number, number][] = [
      ['descriptor table', this.descAddr, VIRTQ_DESC_SIZE * n, 16],
      ['driver ring', this.driverAddr, 6 + 2 * n, 2],
      ['device ring', this.deviceAddr, 6 + 8 * n, 4],
    ];
    for (const [what, addr, len, align] of areas) {
      if (addr % align !== 0) throw malformed(`queue ${this.index}: ${what} at ${hex(addr)} is not ${align}-byte aligned`);
      mem.view(addr, len); // throws EFAULT naming the range when it is not RAM
    }
  }

  /** Takes the next available chain, or undefined when the driver has made none available. */
  pop(mem: GuestMemory): DescriptorChain | undefined {
    const availIdx = readU16(mem, this.driverAddr + 2);
    const ahead = (availIdx - this.lastAvail) & 0xffff;
    if (ahead === 0) return undefined;
    if (ahead > this.size) throw malformed(`queue ${this.index}: available index ${availIdx} is ${ahead} entries ahead of ${this.lastAvail & 0xffff}, more than the queue size ${this.size}`);
    const head = readU16(mem, this.driverAddr + 4 + 2 * (this.lastAvail % this.size));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return this.walk(mem, head);
  }

  /** Puts a finished chain in the used ring and publishes it. */
  push(mem: GuestMemory, head: number, written: number): void {
    const slot = this.deviceAddr + 4 + 8 * (this.usedIdx % this.size);
    writeU32(mem, slot, head);
    writeU32(mem, slot + 4, written);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    writeU16(mem, this.deviceAddr + 2, this.usedIdx);
  }

  /** Whether the driver wants an interrupt for the used entries from oldUsed to now (2.7.7/2.7.10). */
  needsInterrupt(mem: GuestMemory, oldUsed: number): boolean {
    if (this.eventIdx) {
      const usedEvent = readU16(mem, this.driverAddr + 4 + 2 * this.size);
      return ((this.usedIdx - usedEvent - 1) & 0xffff) < ((this.usedIdx - oldUsed) & 0xffff);
    }
    return (readU16(mem, this.driverAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** With EVENT_IDX: asks the driver to notify when it makes the entry after lastAvail available. */
  publishAvailEvent(mem: GuestMemory): void {
    if (this.eventIdx) writeU16(mem, this.deviceAddr + 4 + 8 * this.size, this.lastAvail);
  }

  /** Whether the driver has made more chains available than the device has taken. */
  hasAvailable(mem: GuestMemory): boolean {
    return readU16(mem, this.driverAddr + 2) !== this.lastAvail;
  }

  /** An address as a number; one at or beyond 2^53 is Infinity, which no RAM check accepts. */
  private address(which: number): number {
    const lo = this.addressWords[2 * which]!, hi = this.addressWords[2 * which + 1]!;
    return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
  }

  private setAddress(which: number, gpa: number): void {
    this.addressWords[2 * which] = gpa % 0x100000000;
    this.addressWords[2 * which + 1] = Math.floor(gpa / 0x100000000);
  }

  private walk(mem: GuestMemory, head: number): DescriptorChain {
    const readable: Segment[] = [], writable: Segment[] = [];
    let table = this.descAddr, tableSize = this.size, i = head, count = 0, limit = this.size, inIndirect = false;
    for (;;) {
      if (i >= tableSize) throw malformed(`queue ${this.index}: descriptor index ${i} is outside its ${tableSize}-entry table (chain from ${head})`);
      if (++count > limit) throw malformed(`queue ${this.index}: chain from ${head} is longer than ${limit} descriptors (a loop?)`);
      const d = table + VIRTQ_DESC_SIZE * i;
      const addr = readU64(mem, d), len = readU32(mem, d + 8), flags = readU16(mem, d + 12), next = readU16(mem, d + 14);
      if (flags & VIRTQ_DESC_F.INDIRECT) {
        if (!this.indirect) throw malformed(`queue ${this.index}: indirect descriptor without VIRTIO_F_INDIRECT_DESC`);
        if (inIndirect) throw malformed(`queue ${this.index}: indirect descriptor inside an indirect table`);
        if (flags & VIRTQ_DESC_F.NEXT) throw malformed(`queue ${this.index}: indirect descriptor with the NEXT flag`);
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0 || len / VIRTQ_DESC_SIZE > VIRTQ_MAX_INDIRECT) {
          throw malformed(`queue ${this.index}: indirect table of ${len} bytes (must be a non-zero multiple of 16, at most ${VIRTQ_MAX_INDIRECT} entries)`);
        }
        mem.view(addr, len);
        table = addr;
        tableSize = len / VIRTQ_DESC_SIZE;
        i = 0;
        count = 0;
        limit = tableSize;
        inIndirect = true;
        continue;
      }
      mem.view(addr, len);
      if (flags & VIRTQ_DESC_F.WRITE) writable.push({ gpa: addr, length: len });
      else if (writable.length) throw malformed(`queue ${this.index}: device-readable descriptor after a device-writable one (chain from ${head})`);
      else readable.push({ gpa: addr, length: len });
      if (!(flags & VIRTQ_DESC_F.NEXT)) return new DescriptorChain(head, readable, writable);
      i = next;
    }
  }
}
