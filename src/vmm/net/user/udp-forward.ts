/**
 * hostfwd=udp: a host dgram socket on hostAddress:hostPort whose datagrams go to the guest's port.
 * Each host sender (address, port) is given a gateway port, so the guest's replies to
 * 10.0.2.2:thatPort go back to that sender.
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { HostForward } from '../backend.js';

export interface UdpForwardConfig {
  /** Delivers a datagram to the guest's port from the gateway's gatewayPort. */
  deliver(gatewayPort: number, guestPort: number, payload: Uint8Array): void;
  /** Picks a free gateway port (for the guest's view of this sender). */
  allocatePort(): number | undefined;
  release(gatewayPort: number): void;
}

interface Sender { address: string; port: number; gatewayPort: number }

/** Senders remembered per forward at most (the oldest is forgotten first). */
const MAX_SENDERS = 256;

export class UdpForward {
  private readonly socket: dgram.Socket;
  private readonly bySender = new Map<string, Sender>();
  private readonly byGatewayPort = new Map<number, Sender>();
  readonly listening: Promise<void>;

  constructor(readonly forward: HostForward, private readonly config: UdpForwardConfig) {
    this.socket = dgram.createSocket(isIPv6(forward.hostAddress) ? 'udp6' : 'udp4');
    this.listening = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(forward.hostPort, forward.hostAddress, () => {
        this.socket.off('error', reject);
        this.socket.on('error', () => { /* a failed send to a vanished sender; nothing to do */ });
        resolve();
      });
    });
    this.socket.on('message', (msg, rinfo) => this.fromHost(msg, rinfo.address, rinfo.port));
  }

  /** The guest replied to gatewayPort: true when that port belongs to this forward (and it was sent on). */
  fromGuest(gatewayPort: number, guestPort: number, payload: Uint8Array): boolean {
    const sender = this.byGatewayPort.get(gatewayPort);
    if (!sender || guestPort !== this.forward.guestPort) return false;
    // A copy: the send completes later, and the caller of NetBackend.send may reuse its frame.
    this.socket.send(Buffer.from(payload), sender.port, sender.address);
    return true;
  }

  /** The host port bound (the one asked for, or the one the system picked for port 0). */
  port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    for (const s of this.bySender.values()) this.config.release(s.gatewayPort);
    this.bySender.clear();
    this.byGatewayPort.clear();
    return new Promise((resolve) => {
      try { this.socket.close(() => resolve()); } catch { resolve(); }
    });
  }

  private fromHost(msg: Buffer, address: string, port: number): void {
    const id = `${address}|${port}`;
    let sender = this.bySender.get(id);
    if (!sender) {
      if (this.bySender.size >= MAX_SENDERS) {
        const [oldId, old] = this.bySender.entries().next().value as [string, Sender];
        this.bySender.delete(oldId);
        this.byGatewayPort.delete(old.gatewayPort);
        this.config.release(old.gatewayPort);
      }
      const gatewayPort = this.config.allocatePort();
      if (gatewayPort === undefined) return;
      sender = { address, port, gatewayPort };
      this.bySender.set(id, sender);
      this.byGatewayPort.set(gatewayPort, sender);
    }
    this.config.deliver(sender.gatewayPort, this.forward.guestPort, new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
  }
}
