/**
 * Interrupt messages for a vCPU whose LAPIC lives in another thread: IPIs from other vCPUs,
 * IOAPIC and MSI messages from the devices' thread. A ring in shared memory with many writers
 * (a spin lock word orders them) and one reader, the LAPIC's thread, which drains it into its
 * LAPIC before each run. The writer then kicks the vCPU (vcpu-kick.ts).
 */
import type { DeliveryModeName, InterruptMessage } from '../irq/lapic-message.js';

const LOCK = 0, HEAD = 1, TAIL = 2, DROPPED = 3, HEADER = 4;
/** destination, destMode, deliveryMode, vector, level, trigger */
const ENTRY = 6;
const CAPACITY = 1024;
const MODES: readonly DeliveryModeName[] = ['fixed', 'lowest-priority', 'smi', 'nmi', 'init', 'startup', 'extint'];

export function createInterruptInbox(): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + CAPACITY * ENTRY) * 4);
}

export class InterruptInbox {
  private readonly w: Int32Array;
  constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
  }

  /** Messages lost to a full ring (a vCPU that has not run for 1024 messages). */
  get dropped(): number {
    return Atomics.load(this.w, DROPPED);
  }

  post(m: InterruptMessage): void {
    const w = this.w;
    while (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) Atomics.wait(w, LOCK, 1, 0.05);
    try {
      const head = w[HEAD]!, tail = Atomics.load(w, TAIL);
      if (head - tail >= CAPACITY) {
        Atomics.add(w, DROPPED, 1);
        return;
      }
      const at = HEADER + (head % CAPACITY) * ENTRY;
      w[at] = m.destination; w[at + 1] = m.destMode === 'logical' ? 1 : 0; w[at + 2] = MODES.indexOf(m.deliveryMode);
      w[at + 3] = m.vector; w[at + 4] = m.level ? 1 : 0; w[at + 5] = m.trigger === 'level' ? 1 : 0;
      Atomics.store(w, HEAD, head + 1);
    } finally {
      Atomics.store(w, LOCK, 0);
      Atomics.notify(w, LOCK, 1);
    }
  }

  get pending(): boolean {
    return Atomics.load(this.w, HEAD) !== Atomics.load(this.w, TAIL);
  }

  /** The reader: every message posted so far, in order. */
  drain(deliver: (m: InterruptMessage) => void): void {
    const w = this.w;
    const head = Atomics.load(w, HEAD);
    let tail = Atomics.load(w, TAIL);
    for (; tail !== head; tail++) {
      const at = HEADER + (tail % CAPACITY) * ENTRY;
      const m: InterruptMessage = {
        destination: w[at]!, destMode: w[at + 1] ? 'logical' : 'physical', deliveryMode: MODES[w[at + 2]!] ?? 'fixed',
        vector: w[at + 3]!, level: w[at + 4] === 1, trigger: w[at + 5] ? 'level' : 'edge',
      };
      Atomics.store(w, TAIL, tail + 1);
      deliver(m);
    }
  }
}
