/**
 * The TCP connections of the user network, by their four addresses: new guest connections are
 * checked against the policy (gateway -> host loopback, DNS -> the resolver, elsewhere only when
 * outbound is on) and bridged to node:net sockets; hostfwd listeners open connections toward the
 * guest; segments for no connection are answered with a RST (RFC 793 p. 36).
 */
import * as net from 'node:net';
import type { NetCounters } from '../counters.js';
import { TcpConnection } from './connection.js';
import type { SegmentOut, TcpTuning } from './connection.js';
import { ACK, RST, SYN, FIN } from './segment.js';
import type { TcpSegment } from './segment.js';
import { seqAdd } from './sequence.js';
import { randomInt } from 'node:crypto';

export interface TcpEndpoint {
  guestIp: number;
  guestPort: number;
  /** The address and port the guest sees on the stack's side (the gateway, the DNS address, or a real host). */
  remoteIp: number;
  remotePort: number;
}

/** Where a guest connection goes on the host, or why it does not. */
export type TcpTarget = { host: string; port: number } | undefined;

export interface TcpTableConfig {
  tuning: TcpTuning;
  maxConnections: number;
  counters: NetCounters;
  /** Sends a segment toward the guest. */
  emit(endpoint: TcpEndpoint, seg: SegmentOut): void;
  /** Where the guest's connection to remoteIp:remotePort goes (undefined: refused). */
  target(remoteIp: number, remotePort: number): TcpTarget;
}

/** Source ports the stack picks for connections it opens toward the guest (IANA's dynamic range). */
const EPHEMERAL_FIRST = 49152, EPHEMERAL_COUNT = 16384;

function keyOf(e: TcpEndpoint): string {
  return `${e.guestIp}:${e.guestPort}>${e.remoteIp}:${e.remotePort}`;
}

export class TcpTable {
  private readonly connections = new Map<string, TcpConnection>();
  private nextEphemeral = 0;
  private closed = false;

  constructor(private readonly config: TcpTableConfig) {}

  get size(): number {
    return this.connections.size;
  }

  /** The states of the live connections (for tests and diagnostics). */
  states(): string[] {
    return [...this.connections.values()].map((c) => c.state);
  }

  /** Host bytes each live connection holds for the guest (tests and diagnostics). */
  queuedForGuest(): number[] {
    return [...this.connections.values()].map((c) => c.queuedForGuest);
  }

  segment(endpoint: TcpEndpoint, seg: TcpSegment): void {
    const key = keyOf(endpoint);
    const existing = this.connections.get(key);
    const isNewSyn = (seg.flags & (SYN | ACK | RST)) === SYN;
    if (existing && !(isNewSyn && existing.state === 'time-wait')) { existing.receive(seg); return; }
    if (existing) existing.abort(); // a new SYN may reuse the four addresses of a connection in TIME-WAIT
    if (this.closed) return;
    if (!isNewSyn) {
      if (!(seg.flags & RST)) this.refuse(endpoint, seg);
      return;
    }
    const target = this.config.target(endpoint.remoteIp, endpoint.remotePort);
    if (!target) { this.config.counters.drop('tcp-refused'); this.refuse(endpoint, seg); return; }
    if (this.connections.size >= this.config.maxConnections) {
      this.config.counters.drop('tcp-table-full');
      this.refuse(endpoint, seg);
      return;
    }
    const conn = this.create(endpoint, 'connecting');
    conn.acceptSyn(seg);
    const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    socket.setNoDelay(true);
    conn.connecting(socket);
    const failed = (): void => conn.hostRefused();
    socket.once('error', failed);
    socket.once('connect', () => {
      socket.off('error', failed);
      conn.hostConnected(socket);
    });
  }

  /** A host connection accepted by a hostfwd listener: open a connection to the guest's port. */
  forward(socket: net.Socket, guestIp: number, guestPort: number, stackIp: number): void {
    if (this.closed || this.connections.size >= this.config.maxConnections) { socket.destroy(); return; }
    const remotePort = this.allocatePort(guestIp, guestPort, stackIp);
    if (remotePort === undefined) { socket.destroy(); return; }
    socket.setNoDelay(true);
    const conn = this.create({ guestIp, guestPort, remoteIp: stackIp, remotePort }, 'syn-sent');
    conn.open(socket);
  }

  closeAll(): void {
    this.closed = true;
    for (const conn of [...this.connections.values()]) conn.abort();
    this.connections.clear();
  }

  private create(endpoint: TcpEndpoint, state: 'connecting' | 'syn-sent'): TcpConnection {
    const key = keyOf(endpoint);
    const conn: TcpConnection = new TcpConnection(state, {
      emit: (seg) => this.config.emit(endpoint, seg),
      closed: () => { if (this.connections.get(key) === conn) this.connections.delete(key); },
    }, this.config.tuning, randomInt(0, 0x100000000));
    this.connections.set(key, conn);
    return conn;
  }

  private allocatePort(guestIp: number, guestPort: number, stackIp: number): number | undefined {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
      if (!this.connections.has(keyOf({ guestIp, guestPort, remoteIp: stackIp, remotePort: port }))) {
        this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    return undefined;
  }

  /** The RST for a segment that belongs to no connection (RFC 793 p. 65). */
  private refuse(endpoint: TcpEndpoint, seg: TcpSegment): void {
    if (seg.flags & ACK) {
      this.config.emit(endpoint, { seq: seg.ack, ack: 0, flags: RST, window: 0 });
    } else {
      const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
      this.config.emit(endpoint, { seq: 0, ack: seqAdd(seg.seq, len), flags: RST | ACK, window: 0 });
    }
  }
}
