/**
 * virtio-blk (virtio 5.2) over a raw image file: read, write, flush (fsync) and get-id requests,
 * one request queue.
 *
 * Writes go to the file with positional writes as they arrive, and a flush request is an fsync:
 * what the guest flushed survives the monitor being killed (VIRTIO_BLK_F_FLUSH tells the guest
 * the device has a volatile cache, so it flushes when it must). `readOnly` opens the file
 * read-only and offers VIRTIO_BLK_F_RO; a write then completes with IOERR.
 *
 * First step: the file is accessed with synchronous fs calls in the thread that notified the
 * queue (a vCPU worker), which stalls that vCPU for the length of the I/O.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { VmmError } from '../../../api/errors.js';
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { DescriptorChain } from './chain.js';
import { VIRTIO_ID, featureBit } from './constants.js';
import type { VirtioDeviceModel } from './device-model.js';

export const SECTOR_SIZE = 512;
/** Feature bits (5.2.3). */
export const VIRTIO_BLK_F = { SIZE_MAX: 1, SEG_MAX: 2, RO: 5, BLK_SIZE: 6, FLUSH: 9 } as const;
/** Request types and status values (5.2.6). */
export const VIRTIO_BLK_T = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8 } as const;
export const VIRTIO_BLK_S = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;
export const VIRTIO_BLK_ID_BYTES = 20;
const HEADER_SIZE = 16;
/** Configuration layout (5.2.4): capacity, size_max, seg_max, geometry, blk_size. */
const CONFIG_SIZE = 24;
const QUEUE_SIZE = 256;
/** Largest segment, and most data segments per request (the header and status take two descriptors). */
const SIZE_MAX = 1 << 20;
const SEG_MAX = QUEUE_SIZE - 2;

export interface VirtioBlkOptions {
  path: string;
  readOnly?: boolean;
  /** What GET_ID returns (at most 20 bytes); default: the image's file name. */
  serial?: string;
}

export class VirtioBlk implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID.BLOCK;
  /** Mass storage, SCSI (what QEMU reports for virtio-blk). */
  readonly pciClass = 0x010000;
  readonly features: bigint;
  readonly queueSizes = [QUEUE_SIZE];
  readonly configSize = CONFIG_SIZE;
  readonly capacity: number;
  readonly readOnly: boolean;
  /** Requests that ended in IOERR, and the last host error behind one. */
  ioErrors = 0;
  lastHostError = '';
  private readonly id: Uint8Array;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private fd: number | undefined;

  constructor(opts: VirtioBlkOptions) {
    this.readOnly = opts.readOnly ?? false;
    try {
      this.fd = openSync(opts.path, this.readOnly ? 'r' : 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new VmmError(code === 'ENOENT' ? 'ENOENT' : code === 'EACCES' || code === 'EROFS' ? 'EPERM' : 'EINVAL',
        `cannot open block image ${opts.path}${this.readOnly ? ' read-only' : ' read-write'}: ${(e as Error).message}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      this.close();
      throw new VmmError('EINVAL', `block image ${opts.path} is not a regular file`);
    }
    this.capacity = Math.floor(st.size / SECTOR_SIZE);
    this.id = new TextEncoder().encode(opts.serial ?? basename(opts.path)).subarray(0, VIRTIO_BLK_ID_BYTES);
    this.features = featureBit(VIRTIO_BLK_F.SIZE_MAX) | featureBit(VIRTIO_BLK_F.SEG_MAX) | featureBit(VIRTIO_BLK_F.BLK_SIZE) |
      featureBit(VIRTIO_BLK_F.FLUSH) | (this.readOnly ? featureBit(VIRTIO_BLK_F.RO) : 0n);
    const v = new DataView(this.config.buffer);
    v.setBigUint64(0, BigInt(this.capacity), true);
    v.setUint32(8, SIZE_MAX, true);
    v.setUint32(12, SEG_MAX, true);
    v.setUint32(20, SECTOR_SIZE, true);
  }

  readConfig(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) data[i] = this.config[offset + i] ?? 0;
  }

  /** Nothing in this configuration is writable (no writeback toggle is offered). */
  writeConfig(): void {}

  reset(): void {}

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  handle(_queue: number, chain: DescriptorChain, mem: GuestMemory): number {
    // Every request starts with the 16-byte header and ends with the status byte (5.2.6);
    // a chain without them is not a request, which is a driver error, not an I/O error.
    if (chain.readableLength < HEADER_SIZE || chain.writableLength < 1) {
      throw new VmmError('EINVAL', `virtio-blk: request without a header or status byte (${chain.readableLength} readable, ${chain.writableLength} writable bytes)`);
    }
    const header = new Uint8Array(HEADER_SIZE);
    chain.read(mem, 0, header);
    const hv = new DataView(header.buffer);
    const type = hv.getUint32(0, true);
    const sectorHi = hv.getUint32(12, true);
    const sector = sectorHi >= 0x200000 ? Infinity : sectorHi * 0x100000000 + hv.getUint32(8, true);
    const dataIn = chain.writableLength - 1;
    let status: number = VIRTIO_BLK_S.OK, written = 0;
    switch (type) {
      case VIRTIO_BLK_T.IN:
        status = this.transfer('read', chain, mem, sector, HEADER_SIZE, dataIn);
        if (status === VIRTIO_BLK_S.OK) written = dataIn;
        break;
      case VIRTIO_BLK_T.OUT:
        status = this.readOnly ? this.ioError('write to a read-only disk') : this.transfer('write', chain, mem, sector, HEADER_SIZE, chain.readableLength - HEADER_SIZE);
        break;
      case VIRTIO_BLK_T.FLUSH:
        status = this.flush();
        break;
      case VIRTIO_BLK_T.GET_ID:
        written = chain.write(mem, 0, this.idBytes(Math.min(dataIn, VIRTIO_BLK_ID_BYTES)));
        break;
      default:
        status = VIRTIO_BLK_S.UNSUPP;
    }
    mem.view(this.statusAddress(chain), 1)[0] = status;
    return written + 1;
  }

  /** Moves `length` bytes between the file at sector and the chain's data part. */
  private transfer(dir: 'read' | 'write', chain: DescriptorChain, mem: GuestMemory, sector: number, readableSkip: number, length: number): number {
    if (length % SECTOR_SIZE !== 0) return this.ioError(`${dir} of ${length} bytes is not whole sectors`);
    if (!(sector + length / SECTOR_SIZE <= this.capacity)) return this.ioError(`${dir} of ${length / SECTOR_SIZE} sectors at sector ${sector} is past the ${this.capacity}-sector disk`);
    const fd = this.openFd();
    const base = sector * SECTOR_SIZE;
    try {
      if (dir === 'read') {
        chain.forEachView(mem, 'writable', 0, length, (view, at) => {
          for (let done = 0; done < view.length;) {
            const n = readSync(fd, view, done, view.length - done, base + at + done);
            if (n === 0) throw new VmmError('EIO', `image ended at byte ${base + at + done}`);
            done += n;
          }
        });
      } else {
        chain.forEachView(mem, 'readable', readableSkip, length, (view, at) => {
          for (let done = 0; done < view.length;) done += writeSync(fd, view, done, view.length - done, base + at - readableSkip + done);
        });
      }
    } catch (e) {
      if (e instanceof VmmError && e.code !== 'EIO') throw e;
      return this.ioError(`${dir} at sector ${sector}: ${(e as Error).message}`);
    }
    return VIRTIO_BLK_S.OK;
  }

  private flush(): number {
    if (this.readOnly) return VIRTIO_BLK_S.OK;
    try {
      fsyncSync(this.openFd());
    } catch (e) {
      return this.ioError(`flush: ${(e as Error).message}`);
    }
    return VIRTIO_BLK_S.OK;
  }

  private ioError(why: string): number {
    this.ioErrors++;
    this.lastHostError = why;
    return VIRTIO_BLK_S.IOERR;
  }

  /** The serial, zero-padded to the buffer: no terminator when it fills all 20 bytes (5.2.6). */
  private idBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    out.set(this.id.subarray(0, length));
    return out;
  }

  /** The last writable byte of the chain. */
  private statusAddress(chain: DescriptorChain): number {
    for (let i = chain.writable.length - 1; i >= 0; i--) {
      const s = chain.writable[i]!;
      if (s.length > 0) return s.gpa + s.length - 1;
    }
    throw new VmmError('EINVAL', 'virtio-blk: request without a status byte');
  }

  private openFd(): number {
    if (this.fd === undefined) throw new VmmError('EIO', 'virtio-blk: the image was closed');
    return this.fd;
  }
}
