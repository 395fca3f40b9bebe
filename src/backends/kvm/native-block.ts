/**
 * A block of anonymous native memory with a JS view over it, used for the structures passed to
 * KVM ioctls: the address goes to the kernel as an integer, the fields are read and written
 * through the DataView at the offsets of structs.ts. Allocated once per vCPU, never per call,
 * and recycled through a per-thread pool (mmap + koffi.view cost more than the ioctls they serve).
 */
import { VmmError } from '../../api/errors.js';
import { MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_READ, PROT_WRITE, errno, nativeView, sys } from './libc.js';

export class NativeBlock {
  readonly addr: bigint;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly size: number;

  constructor(size: number) {
    const addr = sys.mmap(null, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (addr === MAP_FAILED || addr === 0n) {
      throw new VmmError('ENOMEM', `kvm: cannot map ${size} bytes of scratch memory (errno ${errno()})`);
    }
    this.addr = addr;
    this.size = size;
    this.bytes = nativeView(addr, size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, size);
  }

  /** A window on part of the block: its own address and views (one per KVM structure). */
  sub(offset: number, size: number): NativeSlice {
    const bytes = this.bytes.subarray(offset, offset + size);
    return { addr: this.addr + BigInt(offset), bytes, view: new DataView(bytes.buffer, bytes.byteOffset, size) };
  }

  zero(length: number = this.size): void {
    this.bytes.fill(0, 0, length);
  }

  free(): void {
    sys.munmap(this.addr, this.size);
  }

  private static readonly pool = new Map<number, NativeBlock[]>();
  private static readonly POOL_MAX = 32;

  /** A zeroed block of `size` bytes, reused from the pool when one is free. */
  static take(size: number): NativeBlock {
    const b = NativeBlock.pool.get(size)?.pop();
    if (!b) return new NativeBlock(size);
    b.zero();
    return b;
  }

  /** Gives a block from take() back to the pool (or to the system when the pool is full). */
  static give(b: NativeBlock): void {
    let list = NativeBlock.pool.get(b.size);
    if (!list) NativeBlock.pool.set(b.size, (list = []));
    if (list.length < NativeBlock.POOL_MAX) list.push(b);
    else b.free();
  }
}

let shared: NativeBlock | undefined;
/** A per-thread block for one-shot ioctl arguments (memory regions, capabilities): use it and forget it. */
export function sharedScratch(): NativeBlock {
  shared ??= new NativeBlock(4096);
  return shared;
}

export interface NativeSlice {
  readonly addr: bigint;
  readonly bytes: Uint8Array;
  readonly view: DataView;
}
