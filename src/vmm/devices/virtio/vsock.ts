/**
 * virtio-vsock (virtio 1.2, 5.10), the device half: the guest's CID in the configuration, a
 * receive queue (0) the device fills with packets from the host, a transmit queue (1) whose
 * packets go to `transmit`, and an event queue (2) the device leaves alone (it never resets the
 * transport while the driver runs). Connections, credit and the host's sockets live in the
 * host-side bridge (vsock-unix-bridge.ts) in the main thread; this half checks and carries packets.
 *
 * A transmitted packet that is malformed (short, len disagreeing with the buffer, not from the
 * guest's CID, not to the host, not a stream packet) is dropped and counted. Packets for the
 * guest wait in a bounded backlog until the driver gives receive buffers. A data packet longer
 * than the buffer is split across as many buffers as it needs (recent Linux kernels give 3776-byte
 * buffers, less than the bridge's 4 KiB payloads); any other packet that does not fit (a buffer
 * shorter than the header) is dropped and counted, the buffer returned empty.
 */
import { VmmError } from '../../../api/errors.js';
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { DescriptorChain } from './chain.js';
import { VIRTIO_ID } from './constants.js';
import type { VirtioDeviceModel } from './device-model.js';
import {
  VSOCK_HEADER_BYTES, VSOCK_HOST_CID, VSOCK_MAX_GUEST_PAYLOAD, VSOCK_OP, VSOCK_TYPE_STREAM, decodeVsockHeader, splitVsockPayload,
} from './vsock-packet.js';

export const VSOCK_QUEUE = { RX: 0, TX: 1, EVENT: 2 } as const;
const QUEUE_SIZE = 128;
const DEFAULT_BACKLOG = 512;
/** CIDs 0-2 are reserved (hypervisor, local, host), and 0xffffffff means any (5.10.4). */
export const VSOCK_MIN_GUEST_CID = 3, VSOCK_MAX_GUEST_CID = 0xfffffffe;

export interface VirtioVsockOptions {
  guestCid: number;
  transmit: (packet: Uint8Array) => void;
  /** The driver reset the device: every connection is gone. */
  onReset?: () => void;
  rxBacklog?: number;
}

export class VirtioVsock implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID.VSOCK;
  /** Communication controller, other (what QEMU reports for vhost-vsock). */
  readonly pciClass = 0x078000;
  /** No feature bits: stream sockets are the default (VIRTIO_VSOCK_F_SEQPACKET is not offered). */
  readonly features = 0n;
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE, QUEUE_SIZE];
  readonly configSize = 8;
  readonly rxQueue = VSOCK_QUEUE.RX;
  readonly stats = { txPackets: 0, txDropped: 0, rxPackets: 0, rxBacklogFull: 0, rxBufferTooSmall: 0, rxSplits: 0 };
  lastTxDrop = '';
  private readonly config = new Uint8Array(8);
  private readonly backlog: Uint8Array[] = [];
  private readonly rxBacklog: number;

  constructor(private readonly opts: VirtioVsockOptions) {
    if (!Number.isInteger(opts.guestCid) || opts.guestCid < VSOCK_MIN_GUEST_CID || opts.guestCid > VSOCK_MAX_GUEST_CID) {
      throw new VmmError('EINVAL', `vsock guest CID must be ${VSOCK_MIN_GUEST_CID}..${VSOCK_MAX_GUEST_CID}, got ${opts.guestCid}`);
    }
    new DataView(this.config.buffer).setUint32(0, opts.guestCid, true);
    this.rxBacklog = opts.rxBacklog ?? DEFAULT_BACKLOG;
  }

  get backlogHasRoom(): boolean { return this.backlog.length < this.rxBacklog; }
  get pendingFrames(): number { return this.backlog.length; }

  /** Queues a packet for the guest (copied); false when the backlog is full (dropped, counted). */
  receive(packet: Uint8Array): boolean {
    if (!this.backlogHasRoom) {
      this.stats.rxBacklogFull++;
      return false;
    }
    this.backlog.push(packet.slice());
    return true;
  }

  hasWork(queue: number): boolean {
    if (queue === VSOCK_QUEUE.RX) return this.backlog.length > 0;
    return queue !== VSOCK_QUEUE.EVENT;
  }

  readConfig(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) data[i] = this.config[offset + i] ?? 0;
  }

  writeConfig(): void {}

  reset(): void {
    this.backlog.length = 0;
    this.opts.onReset?.();
  }

  handle(queue: number, chain: DescriptorChain, mem: GuestMemory): number {
    if (queue === VSOCK_QUEUE.RX) return this.fill(chain, mem);
    if (queue === VSOCK_QUEUE.TX) return this.send(chain, mem);
    throw new VmmError('EINVAL', 'virtio-vsock: the event queue is served only by the device');
  }

  private fill(chain: DescriptorChain, mem: GuestMemory): number {
    if (chain.readableLength > 0) throw new VmmError('EINVAL', `virtio-vsock: receive chain ${chain.head} has ${chain.readableLength} device-readable bytes`);
    let packet = this.backlog[0];
    if (!packet) return 0;
    const room = chain.writableLength;
    if (room >= packet.length) {
      this.backlog.shift();
    } else if (room > VSOCK_HEADER_BYTES && isRw(packet)) {
      const [head, rest] = splitVsockPayload(packet, room - VSOCK_HEADER_BYTES);
      this.backlog[0] = rest;
      packet = head;
      this.stats.rxSplits++;
    } else {
      this.backlog.shift();
      this.stats.rxBufferTooSmall++;
      return 0;
    }
    chain.write(mem, 0, packet);
    this.stats.rxPackets++;
    return packet.length;
  }

  private send(chain: DescriptorChain, mem: GuestMemory): number {
    if (chain.readableLength > VSOCK_HEADER_BYTES + VSOCK_MAX_GUEST_PAYLOAD) return this.drop(`a ${chain.readableLength}-byte packet is longer than ${VSOCK_HEADER_BYTES + VSOCK_MAX_GUEST_PAYLOAD}`);
    const packet = new Uint8Array(chain.readableLength);
    chain.read(mem, 0, packet);
    const h = decodeVsockHeader(packet);
    if (typeof h === 'string') return this.drop(h);
    const cid = this.opts.guestCid;
    if (h.srcCid !== cid) return this.drop(`source CID ${h.srcCid} is not the guest's ${cid}`);
    if (h.dstCid !== VSOCK_HOST_CID) return this.drop(`destination CID ${h.dstCid} is not the host's ${VSOCK_HOST_CID}`);
    if (h.type !== VSOCK_TYPE_STREAM) return this.drop(`socket type ${h.type} is not stream`);
    this.stats.txPackets++;
    this.opts.transmit(packet);
    return 0;
  }

  private drop(why: string): number {
    this.stats.txDropped++;
    this.lastTxDrop = why;
    return 0;
  }
}

function isRw(packet: Uint8Array): boolean {
  return new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint16(30, true) === VSOCK_OP.RW;
}
