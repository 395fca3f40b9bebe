/**
 * Everything the vCPU threads of one machine share besides guest RAM (made by the boot vCPU's
 * thread before it starts the others): each LAPIC's published routing words, each vCPU's
 * interrupt inbox and kick buffers, the device mailbox, and the machine's end: a flag every
 * thread watches, with the first failure's message.
 */
import { createApicDirectory } from './apic-directory.js';
import { createDeviceMailbox } from './device-mailbox.js';
import { createInterruptInbox } from './interrupt-inbox.js';
import { createKickBuffers, type DoorbellWord, type KickBuffers } from './vcpu-kick.js';

export interface SmpFabric {
  vcpus: number;
  directory: SharedArrayBuffer;
  inboxes: SharedArrayBuffer[];
  kicks: KickBuffers[];
  mailbox: SharedArrayBuffer;
  /** Int32 [ended, failed (0, CLAIMED, PUBLISHED), message length] then the message bytes. */
  end: SharedArrayBuffer;
}

const ENDED = 0, FAILED = 1, LENGTH = 2, HEADER = 12, MESSAGE_BYTES = 1024;
/** The failure word: a thread is writing its message, or the message is there to read. */
const CLAIMED = 1, PUBLISHED = 2;

/** bspDoorbell: the word the boot vCPU's idle wait already sleeps on (the host input's). */
export function createSmpFabric(vcpus: number, bspDoorbell?: DoorbellWord): SmpFabric {
  return {
    vcpus,
    directory: createApicDirectory(vcpus),
    inboxes: Array.from({ length: vcpus }, () => createInterruptInbox()),
    kicks: Array.from({ length: vcpus }, (_, k) => createKickBuffers(k === 0 ? bspDoorbell : undefined)),
    mailbox: createDeviceMailbox(vcpus),
    end: new SharedArrayBuffer(HEADER + MESSAGE_BYTES),
  };
}

export class MachineEndFlag {
  private readonly w: Int32Array;
  private readonly bytes: Uint8Array;
  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer, 0, 3);
    this.bytes = new Uint8Array(buffer, HEADER);
  }
  get ended(): boolean {
    return Atomics.load(this.w, ENDED) !== 0;
  }
  end(): void {
    Atomics.store(this.w, ENDED, 1);
  }
  /**
   * A vCPU thread failed: the first message is kept for the boot thread to report. The failure
   * word is claimed (CLAIMED), the message written, then published (PUBLISHED): a reader that
   * saw the word set before the message was written read an empty message.
   */
  fail(message: string): void {
    if (Atomics.compareExchange(this.w, FAILED, 0, CLAIMED) !== 0) return;
    const b = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
    this.bytes.set(b);
    Atomics.store(this.w, LENGTH, b.length);
    Atomics.store(this.w, FAILED, PUBLISHED);
    this.end();
  }
  get failure(): string | undefined {
    if (Atomics.load(this.w, FAILED) !== PUBLISHED) return undefined;
    return new TextDecoder().decode(this.bytes.subarray(0, Atomics.load(this.w, LENGTH)));
  }
}
