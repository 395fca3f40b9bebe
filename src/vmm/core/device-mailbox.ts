/**
 * Device accesses of vCPUs whose thread holds no devices. The platform devices are plain objects
 * that live in one thread (the boot vCPU's); another vCPU's port or MMIO access (one it cannot
 * serve locally, as its LAPIC) is posted here, the devices' thread is kicked, serves it before
 * its next run (or in its idle wait), and answers; the asking vCPU waits for the answer, as the
 * CPU waits for the bus. An EOI of a level-triggered vector travels the same way to the IOAPIC.
 */
import { VmmError } from '../../api/errors.js';
import type { IoRequest, MemRequest } from '../../api/types.js';

const STATE = 0, KIND = 1, WRITE = 2, SIZE = 3, ADDR_LO = 4, ADDR_HI = 5, HANDLED = 6, WORDS = 8;
const IDLE = 0, ASKED = 1, ANSWERED = 2;
const KIND_IO = 0, KIND_MMIO = 1, KIND_EOI = 2;
/** Bytes of data per request: the widest access a device sees is 8 bytes. */
const DATA = 8;
const SLOT_BYTES = WORDS * 4 + DATA;

/** One slot per vCPU (index = vCPU id; the devices' own vCPU's slot stays unused). */
export function createDeviceMailbox(vcpus: number): SharedArrayBuffer {
  return new SharedArrayBuffer(vcpus * SLOT_BYTES);
}

/** What serves the requests: the devices' thread's bus and IOAPIC. */
export interface DeviceSide {
  routeIo(req: IoRequest): boolean;
  routeMem(req: MemRequest): boolean;
  endOfInterrupt(vector: number): void;
}

/** The asking side: one vCPU's slot. */
export class DeviceMailboxClient {
  private readonly w: Int32Array;
  private readonly data: Uint8Array;

  /** wake: kicks the devices' thread; ended: the machine is over (no answer will come). */
  constructor(buffer: SharedArrayBuffer, slot: number, private readonly wake: () => void, private readonly ended: () => boolean) {
    this.w = new Int32Array(buffer, slot * SLOT_BYTES, WORDS);
    this.data = new Uint8Array(buffer, slot * SLOT_BYTES + WORDS * 4, DATA);
  }

  io(req: IoRequest): boolean {
    return this.ask(KIND_IO, req.port, !req.in, req.size, req.data);
  }
  mem(req: MemRequest): boolean {
    return this.ask(KIND_MMIO, req.gpa, req.write, req.size, req.data);
  }
  endOfInterrupt(vector: number): void {
    this.ask(KIND_EOI, vector, true, 0, new Uint8Array(0));
  }

  private ask(kind: number, addr: number, write: boolean, size: number, data: Uint8Array): boolean {
    if (size > DATA) throw new VmmError('EINVAL', `device mailbox: a ${size}-byte access (at most ${DATA})`);
    const w = this.w;
    w[KIND] = kind; w[WRITE] = write ? 1 : 0; w[SIZE] = size;
    w[ADDR_LO] = addr % 2 ** 32; w[ADDR_HI] = Math.floor(addr / 2 ** 32);
    if (write) this.data.set(data.subarray(0, size));
    Atomics.store(w, STATE, ASKED);
    this.wake();
    while (Atomics.load(w, STATE) !== ANSWERED) {
      if (this.ended()) throw new VmmError('EIO', 'the machine ended while a device access was waiting');
      Atomics.wait(w, STATE, ASKED, 100);
    }
    if (!write) data.set(this.data.subarray(0, size));
    const handled = w[HANDLED] === 1;
    Atomics.store(w, STATE, IDLE);
    return handled;
  }
}

/** The devices' side: serves every waiting request. */
export class DeviceMailboxServer {
  private readonly slots: { w: Int32Array; data: Uint8Array }[] = [];

  constructor(buffer: SharedArrayBuffer, vcpus: number) {
    for (let k = 0; k < vcpus; k++) {
      this.slots.push({ w: new Int32Array(buffer, k * SLOT_BYTES, WORDS), data: new Uint8Array(buffer, k * SLOT_BYTES + WORDS * 4, DATA) });
    }
  }

  get pending(): boolean {
    return this.slots.some((s) => Atomics.load(s.w, STATE) === ASKED);
  }

  serve(devices: DeviceSide): void {
    for (const { w, data } of this.slots) {
      if (Atomics.load(w, STATE) !== ASKED) continue;
      const addr = (w[ADDR_HI]! * 2 ** 32) + (w[ADDR_LO]! >>> 0);
      const size = w[SIZE]!, write = w[WRITE] === 1;
      const buf = data.subarray(0, size);
      let handled = true;
      switch (w[KIND]) {
        case KIND_IO: handled = devices.routeIo({ port: addr, in: !write, size, data: buf }); break;
        case KIND_MMIO: handled = devices.routeMem({ gpa: addr, write, size, data: buf }); break;
        case KIND_EOI: devices.endOfInterrupt(addr); break;
      }
      w[HANDLED] = handled ? 1 : 0;
      Atomics.store(w, STATE, ANSWERED);
      Atomics.notify(w, STATE);
    }
  }
}
