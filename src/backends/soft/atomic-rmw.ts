/**
 * Locked read-modify-write instructions on a shared machine, whose vCPUs run in several threads
 * over one guest RAM. The instruction runs as always (the one copy of its semantics in
 * src/x86/exec), with its destination access watched: its read records the value, and its write
 * of the same address and size becomes a compare-and-swap of that value for the new one
 * (Atomics on the RAM's SharedArrayBuffer). If another thread wrote the destination in between,
 * nothing is written, RFLAGS goes back to what it was, and the instruction runs again from its
 * start (its handlers write registers only after the memory commit). So a LOCK ADD is as atomic
 * against a plain store of another vCPU (a qspinlock's unlock) as on hardware.
 *
 * What host atomics cannot do: LOCK CMPXCHG16B (16 bytes) runs under a machine-wide mutex, atomic
 * against other locked instructions but not against plain stores; a locked access that is not
 * naturally aligned (a split lock, which Linux warns about) is not atomic; both are counted.
 */
import type { ExecContext } from '../../x86/exec/context.js';

/** What the CPU lends the locked run: its accesses and its flags. */
export interface LockedRmwCpu extends ExecContext {
  readLin(lin: number, size: number, user: boolean): number;
  writeLin(lin: number, size: number, lo: number, hi: number, user: boolean): void;
  /** The host bytes and offset behind a writable, naturally aligned access (slow path included: faults, exits, code pages). */
  writableBytes(lin: number, size: number, user: boolean): { bytes: Uint8Array; offset: number };
  /** After a write that went the slow way: tells the other vCPUs if it wrote code. */
  afterSlowWrite(): void;
}

/** Thrown by a write whose compare-and-swap lost: the locked run starts again. */
const RETRY = Object.freeze({ retry: true });

/** Typed views of a RAM buffer for Atomics, made once per buffer. */
interface AtomicViews { u8: Uint8Array; u16: Uint16Array; i32: Int32Array; i64: BigInt64Array }
const viewCache = new WeakMap<ArrayBufferLike, AtomicViews>();
function atomicViews(buffer: ArrayBufferLike): AtomicViews {
  let v = viewCache.get(buffer);
  if (v === undefined) {
    const n = buffer.byteLength;
    v = { u8: new Uint8Array(buffer), u16: new Uint16Array(buffer, 0, n >>> 1), i32: new Int32Array(buffer, 0, n >>> 2), i64: new BigInt64Array(buffer, 0, n >>> 3) };
    viewCache.set(buffer, v);
  }
  return v;
}

export class LockedRmw {
  /** Locked accesses that were not naturally aligned (not atomic here). */
  splitLocks = 0;
  /** Compare-and-swaps that lost to another thread (each reran its instruction). */
  retries = 0;
  private active = false;
  private seen = false;
  private lin = 0;
  private size = 0;
  private lo = 0;
  private hi = 0;
  private readonly mutex: Int32Array;

  constructor(private readonly cpu: LockedRmwCpu, mutex: SharedArrayBuffer) {
    this.mutex = new Int32Array(mutex);
  }

  /** Whether a locked instruction is running (the CPU routes its data accesses here). */
  get running(): boolean {
    return this.active;
  }

  run(fn: (ctx: ExecContext) => boolean, wide: boolean): boolean {
    const cpu = this.cpu;
    if (wide) return this.underMutex(() => fn(cpu));
    for (;;) {
      const flags = cpu.flags;
      this.active = true;
      this.seen = false;
      try {
        return fn(cpu);
      } catch (e) {
        if (e !== RETRY) throw e;
        cpu.flags = flags;
        this.retries++;
      } finally {
        this.active = false;
      }
    }
  }

  read(lin: number, size: number, user: boolean): number {
    const lo = this.cpu.readLin(lin, size, user);
    if (!this.seen) {
      this.seen = true;
      this.lin = lin; this.size = size; this.lo = lo; this.hi = size === 8 ? this.cpu.memHi : 0;
    }
    return lo;
  }

  write(lin: number, size: number, lo: number, hi: number, user: boolean): void {
    if (!this.seen || lin !== this.lin || size !== this.size) {
      this.cpu.writeLin(lin, size, lo, hi, user);
      return;
    }
    if (lin % size !== 0) {
      this.splitLocks++;
      this.cpu.writeLin(lin, size, lo, hi, user);
      return;
    }
    const { bytes, offset } = this.cpu.writableBytes(lin, size, user);
    const at = bytes.byteOffset + offset;
    const v = atomicViews(bytes.buffer);
    let won: boolean;
    switch (size) {
      case 1: won = Atomics.compareExchange(v.u8, at, this.lo & 0xff, lo & 0xff) === (this.lo & 0xff); break;
      case 2: won = Atomics.compareExchange(v.u16, at >>> 1, this.lo & 0xffff, lo & 0xffff) === (this.lo & 0xffff); break;
      case 4: won = Atomics.compareExchange(v.i32, at >>> 2, this.lo | 0, lo | 0) === (this.lo | 0); break;
      default: {
        const expected = (BigInt(this.hi | 0) << 32n) | BigInt(this.lo >>> 0);
        won = Atomics.compareExchange(v.i64, at >>> 3, expected, (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0)) === expected;
      }
    }
    this.cpu.afterSlowWrite();
    if (!won) throw RETRY;
  }

  private underMutex<T>(body: () => T): T {
    const m = this.mutex;
    while (Atomics.compareExchange(m, 0, 0, 1) !== 0) Atomics.wait(m, 0, 1, 1);
    try {
      return body();
    } finally {
      Atomics.store(m, 0, 0);
      Atomics.notify(m, 0, 1);
    }
  }
}
