/**
 * UDP between the guest and the host through node:dgram: each guest flow (its address and port,
 * and the address and port it sends to) gets one connected host socket, so replies come back to the
 * guest from exactly the address it wrote to. Flows end after an idle time; their number is bounded
 * (the oldest makes room).
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { NetCounters } from './counters.js';

export interface UdpFlowKey {
  guestIp: number;
  guestPort: number;
  remoteIp: number;
  remotePort: number;
}

export interface UdpRelayConfig {
  maxFlows: number;
  idleMs: number;
  counters: NetCounters;
  /** Delivers a reply to the guest as from flow.remoteIp:remotePort. */
  reply(flow: UdpFlowKey, payload: Uint8Array): void;
}

interface Flow {
  socket: dgram.Socket;
  connected: boolean;
  waiting: Uint8Array[];
  idle: NodeJS.Timeout;
}

/** Datagrams held for a flow whose host socket is still connecting. */
const MAX_WAITING = 16;

export class UdpRelay {
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly config: UdpRelayConfig) {}

  get size(): number {
    return this.flows.size;
  }

  /** Sends the guest's datagram to host:port for the flow, opening the flow's socket if needed. */
  send(key: UdpFlowKey, host: string, port: number, payload: Uint8Array): void {
    const id = `${key.guestIp}:${key.guestPort}>${key.remoteIp}:${key.remotePort}`;
    let flow = this.flows.get(id);
    if (!flow) flow = this.open(id, key, host, port);
    flow.idle.refresh();
    // A copy: the send completes later, and the caller of NetBackend.send may reuse its frame.
    if (flow.connected) flow.socket.send(Buffer.from(payload));
    else if (flow.waiting.length < MAX_WAITING) flow.waiting.push(payload.slice());
  }

  closeAll(): void {
    for (const id of [...this.flows.keys()]) this.end(id);
  }

  private open(id: string, key: UdpFlowKey, host: string, port: number): Flow {
    if (this.flows.size >= this.config.maxFlows) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.end(oldest);
      this.config.counters.drop('udp-flow-table-full');
    }
    const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const idle = setTimeout(() => this.end(id), this.config.idleMs);
    idle.unref();
    const flow: Flow = { socket, connected: false, waiting: [], idle };
    this.flows.set(id, flow);
    socket.on('message', (msg) => this.config.reply(key, new Uint8Array(msg.buffer, msg.byteOffset, msg.length)));
    // A host port with nothing listening makes the next send fail (ECONNREFUSED): that is the flow's end.
    socket.on('error', () => this.end(id));
    socket.connect(port, host, () => {
      flow.connected = true;
      for (const d of flow.waiting) socket.send(d);
      flow.waiting = [];
    });
    socket.unref();
    return flow;
  }

  private end(id: string): void {
    const flow = this.flows.get(id);
    if (!flow) return;
    this.flows.delete(id);
    clearTimeout(flow.idle);
    try { flow.socket.close(); } catch { /* already closed by an error */ }
  }
}
