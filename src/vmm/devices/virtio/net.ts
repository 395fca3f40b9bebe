/**
 * virtio-net (virtio 5.1): one receive queue (0) and one transmit queue (1), a MAC address in the
 * configuration (VIRTIO_NET_F_MAC) and a link that is always up (VIRTIO_NET_F_STATUS). No
 * offloads: the guest computes and checks its own checksums and sends no GSO frames, so every
 * frame is one Ethernet frame of at most MAX_FRAME_BYTES, behind the 12-byte virtio_net_hdr that
 * VIRTIO_F_VERSION_1 gives every buffer (5.1.6).
 *
 * The device knows nothing of where frames go: `transmit` gets each frame the guest sends, and the
 * monitor hands it frames for the guest with receive(), which queues them (bounded) until the
 * driver has receive buffers; the monitor then calls the transport's notify(RX) to deliver them.
 *
 * Guest mistakes in frames (a header asking for an offload that was not offered, a frame shorter
 * than an Ethernet header) drop that frame and count it; a receive chain with device-readable
 * buffers breaks the queue protocol and puts the device in DEVICE_NEEDS_RESET (VmmError).
 */
import { VmmError } from '../../../api/errors.js';
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { DescriptorChain } from './chain.js';
import { VIRTIO_ID, featureBit } from './constants.js';
import type { VirtioDeviceModel } from './device-model.js';

/** Feature bits (5.1.3) this device offers. */
export const VIRTIO_NET_F = { MAC: 5, STATUS: 16 } as const;
/** virtio_net_config.status bits (5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;
/** virtio_net_hdr (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
export const VIRTIO_NET_HDR_SIZE = 12;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
const NUM_BUFFERS_OFFSET = 10;
export const NET_QUEUE = { RX: 0, TX: 1 } as const;
export const ETHERNET_HEADER_BYTES = 14;
/**
 * The largest frame either way: a 1500-byte MTU plus the Ethernet header and one VLAN tag. Without
 * MRG_RXBUF or offloads, the driver's receive buffers need only hold 1526 bytes (5.1.6.3.1), which
 * is the header and 1514; a larger frame for a smaller buffer is dropped there.
 */
export const MAX_FRAME_BYTES = 1518;
/** Frames waiting for receive buffers; beyond this they are dropped (the guest's TCP retransmits). */
export const DEFAULT_RX_BACKLOG = 256;
const QUEUE_SIZE = 256;
/** mac[6], status (5.1.4). */
const CONFIG_SIZE = 8;

export interface VirtioNetOptions {
  mac: Uint8Array;
  /** A frame the guest sent (a copy: the callee may keep it). */
  transmit: (frame: Uint8Array) => void;
  rxBacklog?: number;
}

/** What went through the NIC, and what was dropped and why. */
export interface VirtioNetStats {
  txFrames: number;
  txBytes: number;
  /** Guest frames dropped: shorter than an Ethernet header, longer than MAX_FRAME_BYTES, or asking for an offload. */
  txDropped: number;
  rxFrames: number;
  rxBytes: number;
  /** Host frames dropped because the backlog was full (the guest gave no buffers for a while). */
  rxBacklogFull: number;
  /** Host frames dropped for being longer than MAX_FRAME_BYTES. */
  rxOversize: number;
  /** Host frames dropped because the receive buffer was smaller than the frame (returned to the guest empty). */
  rxBufferTooSmall: number;
}

export class VirtioNet implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID.NET;
  /** Network controller, Ethernet. */
  readonly pciClass = 0x020000;
  readonly features = featureBit(VIRTIO_NET_F.MAC) | featureBit(VIRTIO_NET_F.STATUS);
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE];
  readonly configSize = CONFIG_SIZE;
  readonly rxQueue = NET_QUEUE.RX;
  readonly stats: VirtioNetStats = { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxBacklogFull: 0, rxOversize: 0, rxBufferTooSmall: 0 };
  /** Why the last guest frame was dropped. */
  lastTxDrop = '';
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly backlog: Uint8Array[] = [];
  private readonly rxBacklog: number;
  private readonly transmit: (frame: Uint8Array) => void;

  constructor(opts: VirtioNetOptions) {
    if (opts.mac.length !== 6) throw new VmmError('EINVAL', `virtio-net: a MAC address has 6 bytes, got ${opts.mac.length}`);
    this.config.set(opts.mac, 0);
    this.config[6] = VIRTIO_NET_S_LINK_UP;
    this.transmit = opts.transmit;
    this.rxBacklog = opts.rxBacklog ?? DEFAULT_RX_BACKLOG;
  }

  /** Whether receive() would queue a frame now (rather than drop it for a full backlog). */
  get backlogHasRoom(): boolean {
    return this.backlog.length < this.rxBacklog;
  }

  /** Frames waiting for the guest's receive buffers. */
  get pendingFrames(): number {
    return this.backlog.length;
  }

  /**
   * Queues a frame for the guest (copied); false when it was dropped (too long, backlog full).
   * The caller then runs the receive queue (transport notify(NET_QUEUE.RX)) to deliver it.
   */
  receive(frame: Uint8Array): boolean {
    if (frame.length > MAX_FRAME_BYTES) {
      this.stats.rxOversize++;
      return false;
    }
    if (this.backlog.length >= this.rxBacklog) {
      this.stats.rxBacklogFull++;
      return false;
    }
    this.backlog.push(frame.slice());
    return true;
  }

  hasWork(queue: number): boolean {
    return queue !== NET_QUEUE.RX || this.backlog.length > 0;
  }

  readConfig(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) data[i] = this.config[offset + i] ?? 0;
  }

  /** The configuration is read-only for a modern driver (5.1.4.2: it must not write the MAC). */
  writeConfig(): void {}

  /** The driver reset the device: frames waiting for its old buffers are gone. */
  reset(): void {
    this.backlog.length = 0;
  }

  handle(queue: number, chain: DescriptorChain, mem: GuestMemory): number {
    return queue === NET_QUEUE.RX ? this.fillReceiveBuffer(chain, mem) : this.sendFrame(chain, mem);
  }

  private fillReceiveBuffer(chain: DescriptorChain, mem: GuestMemory): number {
    if (chain.readableLength > 0) {
      throw new VmmError('EINVAL', `virtio-net: receive chain ${chain.head} has ${chain.readableLength} device-readable bytes (receive buffers are device-writable)`);
    }
    const frame = this.backlog.shift();
    if (!frame) return 0;
    if (chain.writableLength < VIRTIO_NET_HDR_SIZE + frame.length) {
      // Used length 0: the driver frees the buffer and counts a length error (Linux: "short packet").
      this.stats.rxBufferTooSmall++;
      return 0;
    }
    const header = new Uint8Array(VIRTIO_NET_HDR_SIZE);
    header[NUM_BUFFERS_OFFSET] = 1;
    chain.write(mem, 0, header);
    chain.forEachView(mem, 'writable', VIRTIO_NET_HDR_SIZE, frame.length, (view, at) => view.set(frame.subarray(at - VIRTIO_NET_HDR_SIZE, at - VIRTIO_NET_HDR_SIZE + view.length)));
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.length;
    return VIRTIO_NET_HDR_SIZE + frame.length;
  }

  private sendFrame(chain: DescriptorChain, mem: GuestMemory): number {
    const length = chain.readableLength - VIRTIO_NET_HDR_SIZE;
    if (length < ETHERNET_HEADER_BYTES || length > MAX_FRAME_BYTES) return this.dropTx(`a ${chain.readableLength}-byte transmit buffer holds no frame of ${ETHERNET_HEADER_BYTES}..${MAX_FRAME_BYTES} bytes after the header`);
    const header = new Uint8Array(VIRTIO_NET_HDR_SIZE);
    chain.read(mem, 0, header);
    if (header[0]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) return this.dropTx('checksum offload requested (VIRTIO_NET_F_CSUM was not offered)');
    if (header[1] !== VIRTIO_NET_HDR_GSO_NONE) return this.dropTx(`segmentation offload type ${header[1]} requested (no GSO was offered)`);
    const frame = new Uint8Array(length);
    chain.read(mem, VIRTIO_NET_HDR_SIZE, frame);
    this.stats.txFrames++;
    this.stats.txBytes += length;
    this.transmit(frame);
    return 0;
  }

  private dropTx(why: string): number {
    this.stats.txDropped++;
    this.lastTxDrop = why;
    return 0;
  }
}
