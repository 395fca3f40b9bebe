/**
 * The host side of virtio-vsock, Firecracker's protocol over Unix sockets, in the main thread:
 *
 * - Host to guest: a host program connects to the Unix socket `path` and writes `CONNECT <port>\n`;
 *   the bridge asks the guest (REQUEST from the host CID and a fresh host port); when the guest
 *   accepts (RESPONSE) the program reads `OK <hostport>\n` and the socket is the connection; a
 *   refusal (RST) closes it.
 * - Guest to host: a guest connection to the host CID, port P, is connected to the Unix socket
 *   `${path}_${P}`; nothing listening there is an RST to the guest.
 *
 * Stream credit (5.10.6.3): every packet says how much buffer its sender has (buf_alloc) and how
 * much it has consumed (fwd_cnt); the bridge sends the guest no more than its free credit (the
 * host socket is paused meanwhile) and counts its own consumption as bytes the host socket took.
 * Packets that make no sense for the connection they name get an RST, as Linux's transport does.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { VmmError } from '../../../api/errors.js';
import {
  VSOCK_HOST_CID, VSOCK_MAX_PAYLOAD, VSOCK_OP, VSOCK_SHUTDOWN, VSOCK_TYPE_STREAM, decodeVsockHeader, encodeVsockPacket,
  VSOCK_HEADER_BYTES, type VsockHeader,
} from './vsock-packet.js';

/** The buffer the bridge advertises per connection. */
export const BRIDGE_BUF_ALLOC = 256 * 1024;
/** Longest CONNECT line accepted. */
const MAX_CONNECT_LINE = 64;
/** First host port given to host-initiated connections (Firecracker counts up from 1 << 30 too). */
const FIRST_HOST_PORT = 1 << 30;

interface Connection {
  socket: Socket;
  hostPort: number;
  guestPort: number;
  /** 'request': waiting for the guest's answer; 'open': data flows. */
  state: 'request' | 'open';
  /** Bytes sent to the guest, and the guest's last word on its buffer and consumption. */
  txCnt: number;
  peerBufAlloc: number;
  peerFwdCnt: number;
  /** Bytes the host socket took, and the count last told to the guest. */
  fwdCnt: number;
  toldFwdCnt: number;
  /** Host bytes waiting for guest credit. */
  pending: Buffer[];
  /** The host ended its side: SHUTDOWN(SEND) once pending is sent. */
  hostEnded: boolean;
  shutdownSent: boolean;
}

export class VsockUnixBridge {
  /** Set by the owner: packets for the guest. */
  onPacket: ((packet: Uint8Array) => void) | undefined;
  /** Packets from the guest dropped as malformed, and the last reason. */
  malformed = 0;
  lastMalformed = '';
  private readonly conns = new Map<string, Connection>();
  private server: Server | undefined;
  private nextHostPort = FIRST_HOST_PORT;

  constructor(readonly guestCid: number, readonly path: string) {}

  /** Listens on `path` (which must not exist: a stale socket file is the user's to remove). */
  listen(): Promise<void> {
    if (existsSync(this.path)) return Promise.reject(new VmmError('EEXIST', `--vsock: ${this.path} already exists`));
    return new Promise((resolve, reject) => {
      // Half-open sockets: a side that ends its writing may still read what the guest sends.
      const server = createServer({ allowHalfOpen: true }, (s) => this.hostConnected(s));
      server.once('error', (e) => reject(new VmmError('EINVAL', `--vsock: cannot listen on ${this.path}: ${e.message}`)));
      server.listen(this.path, () => {
        this.server = server;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.conns.values()) c.socket.destroy();
    this.conns.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try { if (existsSync(this.path)) unlinkSync(this.path); } catch { /* already gone */ }
  }

  /** The guest reset its device: its connections are gone; the host sockets are closed. */
  guestReset(): void {
    for (const c of this.conns.values()) c.socket.destroy();
    this.conns.clear();
  }

  /** A packet the guest sent. */
  receive(packet: Uint8Array): void {
    const h = decodeVsockHeader(packet);
    if (typeof h === 'string') return this.bad(h);
    if (h.srcCid !== this.guestCid || h.dstCid !== VSOCK_HOST_CID) return this.bad(`packet from CID ${h.srcCid} to ${h.dstCid}`);
    const key = keyOf(h.dstPort, h.srcPort);
    const c = this.conns.get(key);
    if (h.op === VSOCK_OP.REQUEST) {
      if (c) return this.reset(h);
      return this.guestConnect(h);
    }
    if (!c) {
      if (h.op !== VSOCK_OP.RST) this.reset(h);
      return;
    }
    c.peerBufAlloc = h.bufAlloc;
    c.peerFwdCnt = h.fwdCnt;
    switch (h.op) {
      case VSOCK_OP.RESPONSE:
        if (c.state !== 'request') return this.abort(c);
        c.state = 'open';
        c.socket.write(`OK ${c.hostPort}\n`);
        c.socket.resume();
        break;
      case VSOCK_OP.RST:
        this.forget(c);
        c.socket.destroy();
        return;
      case VSOCK_OP.RW: {
        if (c.state !== 'open') return this.abort(c);
        const payload = packet.subarray(VSOCK_HEADER_BYTES);
        c.socket.write(payload, () => {
          c.fwdCnt = (c.fwdCnt + payload.length) >>> 0;
          // Tell the guest once it has used a quarter of its credit with us (it would stall at all of it).
          if (((c.fwdCnt - c.toldFwdCnt) >>> 0) >= BRIDGE_BUF_ALLOC / 4 && this.conns.get(key) === c) this.send(c, VSOCK_OP.CREDIT_UPDATE);
        });
        break;
      }
      case VSOCK_OP.SHUTDOWN:
        if (h.flags & VSOCK_SHUTDOWN.SEND) c.socket.end();
        if ((h.flags & (VSOCK_SHUTDOWN.SEND | VSOCK_SHUTDOWN.RCV)) === (VSOCK_SHUTDOWN.SEND | VSOCK_SHUTDOWN.RCV)) {
          // Both directions closed: the connection ends with an RST from this side (as Linux expects).
          this.send(c, VSOCK_OP.RST);
          this.forget(c);
          c.socket.end();
          return;
        }
        break;
      case VSOCK_OP.CREDIT_REQUEST:
        this.send(c, VSOCK_OP.CREDIT_UPDATE);
        break;
      case VSOCK_OP.CREDIT_UPDATE:
        break;
      default:
        return this.abort(c);
    }
    this.flush(c);
  }

  get connections(): number {
    return this.conns.size;
  }

  private bad(why: string): void {
    this.malformed++;
    this.lastMalformed = why;
  }

  /** A host program connected to `path`: read its CONNECT line, then ask the guest. */
  private hostConnected(socket: Socket): void {
    let line = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      line = Buffer.concat([line, d]);
      const nl = line.indexOf(0x0a);
      if (nl < 0) {
        if (line.length > MAX_CONNECT_LINE) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const m = /^CONNECT (\d{1,10})$/.exec(line.subarray(0, nl).toString('latin1').replace(/\r$/, ''));
      const port = m ? Number(m[1]) : NaN;
      if (!(port <= 0xffffffff)) {
        socket.destroy();
        return;
      }
      const c = this.track(socket, this.allocateHostPort(), port, 'request');
      const rest = line.subarray(nl + 1);
      if (rest.length) c.pending.push(rest);
      this.send(c, VSOCK_OP.REQUEST);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }

  private allocateHostPort(): number {
    for (;;) {
      const p = this.nextHostPort;
      this.nextHostPort = this.nextHostPort >= 0xfffffffe ? FIRST_HOST_PORT : this.nextHostPort + 1;
      if (![...this.conns.values()].some((c) => c.hostPort === p)) return p;
    }
  }

  /** The guest connects to host port P: connect to `${path}_${P}`. */
  private guestConnect(h: VsockHeader): void {
    if (h.type !== VSOCK_TYPE_STREAM) return this.reset(h);
    const socket = createConnection({ path: `${this.path}_${h.dstPort}`, allowHalfOpen: true });
    socket.pause();
    const c = this.track(socket, h.dstPort, h.srcPort, 'request');
    c.peerBufAlloc = h.bufAlloc;
    c.peerFwdCnt = h.fwdCnt;
    socket.once('connect', () => {
      if (this.conns.get(keyOf(c.hostPort, c.guestPort)) !== c) return;
      c.state = 'open';
      this.send(c, VSOCK_OP.RESPONSE);
      socket.resume();
    });
  }

  private track(socket: Socket, hostPort: number, guestPort: number, state: Connection['state']): Connection {
    const c: Connection = {
      socket, hostPort, guestPort, state, txCnt: 0, peerBufAlloc: 0, peerFwdCnt: 0, fwdCnt: 0, toldFwdCnt: 0,
      pending: [], hostEnded: false, shutdownSent: false,
    };
    this.conns.set(keyOf(hostPort, guestPort), c);
    socket.on('data', (d: Buffer) => {
      if (c.state !== 'open') return;
      c.pending.push(d);
      this.flush(c);
    });
    socket.on('end', () => {
      c.hostEnded = true;
      this.flush(c);
    });
    socket.on('error', () => { /* 'close' follows */ });
    socket.on('close', () => {
      if (this.conns.get(keyOf(hostPort, guestPort)) !== c) return;
      this.forget(c);
      this.send(c, VSOCK_OP.RST);
    });
    return c;
  }

  /** Sends what the guest's credit allows; pauses the host socket while it allows nothing. */
  private flush(c: Connection): void {
    if (c.state !== 'open') return;
    while (c.pending.length > 0) {
      const credit = c.peerBufAlloc - ((c.txCnt - c.peerFwdCnt) >>> 0);
      if (credit <= 0) break;
      const head = c.pending[0]!;
      const n = Math.min(head.length, credit, VSOCK_MAX_PAYLOAD);
      this.send(c, VSOCK_OP.RW, head.subarray(0, n));
      c.txCnt = (c.txCnt + n) >>> 0;
      if (n === head.length) c.pending.shift();
      else c.pending[0] = head.subarray(n);
    }
    if (c.pending.length > 0) c.socket.pause();
    else if (!c.hostEnded) c.socket.resume();
    if (c.pending.length === 0 && c.hostEnded && !c.shutdownSent) {
      c.shutdownSent = true;
      this.send(c, VSOCK_OP.SHUTDOWN, undefined, VSOCK_SHUTDOWN.SEND);
    }
  }

  private send(c: Connection, op: number, payload?: Uint8Array, flags = 0): void {
    c.toldFwdCnt = c.fwdCnt;
    this.onPacket?.(encodeVsockPacket({
      srcCid: VSOCK_HOST_CID, dstCid: this.guestCid, srcPort: c.hostPort, dstPort: c.guestPort,
      type: VSOCK_TYPE_STREAM, op, flags, bufAlloc: BRIDGE_BUF_ALLOC, fwdCnt: c.fwdCnt,
    }, payload));
  }

  /** An RST for a packet that names no connection (or a duplicate request). */
  private reset(h: VsockHeader): void {
    this.onPacket?.(encodeVsockPacket({
      srcCid: VSOCK_HOST_CID, dstCid: this.guestCid, srcPort: h.dstPort, dstPort: h.srcPort,
      type: VSOCK_TYPE_STREAM, op: VSOCK_OP.RST, flags: 0, bufAlloc: 0, fwdCnt: 0,
    }));
  }

  /** A packet that breaks the connection's protocol: reset it both ways. */
  private abort(c: Connection): void {
    this.forget(c);
    this.send(c, VSOCK_OP.RST);
    c.socket.destroy();
  }

  private forget(c: Connection): void {
    this.conns.delete(keyOf(c.hostPort, c.guestPort));
  }
}

function keyOf(hostPort: number, guestPort: number): string {
  return `${hostPort}:${guestPort}`;
}
