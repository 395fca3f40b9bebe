/**
 * Host input for the guest (console keystrokes), from the main thread to the vCPU thread, which
 * may be inside the guest or asleep in a halted guest's idle wait: a byte ring in shared memory,
 * a doorbell word the idle wait sleeps on, and a quit flag. One writer (main), one reader (vCPU).
 */
import { Doorbell, type DoorbellWord } from './vcpu-kick.js';

export const INPUT_RING_BYTES = 64 * 1024;
const HEAD = 0, TAIL = 1, DOORBELL = 2, QUIT = 3, WORDS = 4;

export interface HostInputBuffers { ctl: SharedArrayBuffer; ring: SharedArrayBuffer }

/** The doorbell word the vCPU's idle wait sleeps on (others may ring it too: vcpu-kick.ts). */
export function hostInputDoorbell(b: HostInputBuffers): DoorbellWord {
  return { buffer: b.ctl, index: DOORBELL };
}

export function createHostInput(): HostInputBuffers {
  return { ctl: new SharedArrayBuffer(WORDS * 4), ring: new SharedArrayBuffer(INPUT_RING_BYTES) };
}

/** The main thread's end. */
export class HostInputWriter {
  private readonly ctl: Int32Array;
  private readonly ring: Uint8Array;
  private readonly doorbell: Doorbell;
  constructor(b: HostInputBuffers) {
    this.ctl = new Int32Array(b.ctl);
    this.ring = new Uint8Array(b.ring);
    this.doorbell = new Doorbell(hostInputDoorbell(b));
  }

  /** Queues what fits; returns how many bytes were taken (the rest is the caller's to retry). */
  write(bytes: Uint8Array): number {
    const head = Atomics.load(this.ctl, HEAD), tail = Atomics.load(this.ctl, TAIL);
    const room = INPUT_RING_BYTES - (head - tail);
    const n = Math.min(room, bytes.length);
    for (let k = 0; k < n; k++) this.ring[(head + k) % INPUT_RING_BYTES] = bytes[k]!;
    Atomics.store(this.ctl, HEAD, head + n);
    this.ringDoorbell();
    return n;
  }

  requestQuit(): void {
    Atomics.store(this.ctl, QUIT, 1);
    this.ringDoorbell();
  }

  /** Wakes the idle wait for other host input (network frames in their own rings). */
  ringDoorbell(): void {
    this.doorbell.ring();
  }
}

/** The vCPU thread's end. */
export class HostInputReader {
  private readonly ctl: Int32Array;
  private readonly ring: Uint8Array;
  private readonly doorbell: Doorbell;
  constructor(b: HostInputBuffers) {
    this.ctl = new Int32Array(b.ctl);
    this.ring = new Uint8Array(b.ring);
    this.doorbell = new Doorbell(hostInputDoorbell(b));
  }

  get quitRequested(): boolean {
    return Atomics.load(this.ctl, QUIT) !== 0;
  }

  /** Bytes waiting, without taking them. */
  get available(): number {
    return Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL);
  }

  /** Offers the waiting bytes to take(bytes) -> how many it accepted; those are consumed. */
  drain(take: (bytes: Uint8Array) => number): void {
    const head = Atomics.load(this.ctl, HEAD), tail = Atomics.load(this.ctl, TAIL);
    if (head === tail) return;
    const chunk = new Uint8Array(head - tail);
    for (let k = 0; k < chunk.length; k++) chunk[k] = this.ring[(tail + k) % INPUT_RING_BYTES]!;
    Atomics.store(this.ctl, TAIL, tail + take(chunk));
  }

  /**
   * Sleeps up to ms, or until the main thread rings (input, quit, or other input for which
   * `ready` says so; it is asked after the doorbell is read, so nothing rung in between is missed).
   */
  wait(ms: number, ready?: () => boolean): void {
    this.doorbell.wait(ms, () => this.available > 0 || this.quitRequested || (ready?.() ?? false));
  }
}
