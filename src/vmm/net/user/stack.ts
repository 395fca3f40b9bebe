/**
 * The user-mode network (QEMU's "slirp" conventions): frames from the guest are parsed layer by
 * layer and answered by the stack itself (ARP, DHCP, ICMP echo) or bridged to host sockets (UDP,
 * DNS, TCP). Malformed or refused input is dropped and counted; nothing a guest sends throws out
 * of send(). Frames for the guest are delivered through onReceive from a microtask, never from
 * inside send().
 */
import * as net from 'node:net';
import { VmmError } from '../../../api/errors.js';
import type { HostForward, NetBackend, UserNetOptions } from '../backend.js';
import {
  BROADCAST_IP, BROADCAST_MAC, DNS_IP, GATEWAY_IP, GUEST_IP, STACK_MAC, SUBNET_BROADCAST_IP,
  inNetwork, ipv4Text, isStackAddress, isUnicastMac, macEquals,
} from './addresses.js';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from './arp.js';
import { ArpTable } from './arp-table.js';
import { NetCounters } from './counters.js';
import type { DropReason } from './counters.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, answerDhcp, parseDhcp } from './dhcp.js';
import { DNS_PORT, isWellFormedQuery, systemResolver } from './dns.js';
import type { ResolverAddress } from './dns.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, buildEthernet, parseEthernet } from './ethernet.js';
import { FragmentReassembler } from './fragments.js';
import {
  ICMP_ECHO_REQUEST, UNREACHABLE_ADMIN_PROHIBITED, UNREACHABLE_PORT, buildEchoReply, buildUnreachable, parseIcmp,
} from './icmp.js';
import { Ipv4Builder, PROTO_ICMP, PROTO_TCP, PROTO_UDP, parseIpv4 } from './ipv4.js';
import type { Ipv4Packet } from './ipv4.js';
import type { SegmentOut } from './tcp/connection.js';
import { buildTcp, parseTcp } from './tcp/segment.js';
import { TcpTable } from './tcp/table.js';
import type { TcpEndpoint, TcpTarget } from './tcp/table.js';
import type { UserNetTuning } from './tuning.js';
import { buildUdp, parseUdp } from './udp.js';
import { UdpForward } from './udp-forward.js';
import { UdpRelay } from './udp-relay.js';
import type { UdpFlowKey } from './udp-relay.js';

/** A bound hostfwd listener: the forward as asked and the port it really listens on (hostPort 0 picks one). */
export interface BoundForward {
  forward: HostForward;
  port: number;
}

/** Minimum time between two ARP requests for one address. */
const ARP_REQUEST_INTERVAL_MS = 500;
/** Gateway ports given to UDP hostfwd senders. */
const UDP_FORWARD_PORT_FIRST = 49152, UDP_FORWARD_PORT_COUNT = 16384;

export class UserNetwork implements NetBackend {
  onReceive: ((frame: Uint8Array) => void) | undefined;
  readonly counters = new NetCounters();
  private readonly arp = new ArpTable();
  private readonly arpRequested = new Map<number, number>();
  private readonly ip = new Ipv4Builder();
  private readonly fragments: FragmentReassembler;
  private readonly tcp: TcpTable;
  private readonly udp: UdpRelay;
  private readonly tcpServers: net.Server[] = [];
  private readonly udpForwards: UdpForward[] = [];
  private readonly udpForwardPorts = new Set<number>();
  private nextUdpForwardPort = 0;
  private readonly bound: Promise<BoundForward[]>;
  private closed = false;
  private resolverCache: ResolverAddress | undefined;

  constructor(private readonly options: UserNetOptions, private readonly tuning: UserNetTuning) {
    this.fragments = new FragmentReassembler(
      { maxDatagrams: tuning.maxFragmentedDatagrams, timeoutMs: tuning.fragmentTimeoutMs },
      () => this.counters.drop('fragment-timeout'),
    );
    this.tcp = new TcpTable({
      tuning: tuning.tcp,
      maxConnections: tuning.maxTcpConnections,
      counters: this.counters,
      emit: (endpoint, seg) => this.emitTcp(endpoint, seg),
      target: (ip, port) => this.tcpTarget(ip, port),
    });
    this.udp = new UdpRelay({
      maxFlows: tuning.maxUdpFlows,
      idleMs: tuning.udpIdleMs,
      counters: this.counters,
      reply: (flow, payload) => this.emitUdp(flow.remoteIp, flow.guestIp, flow.remotePort, flow.guestPort, payload),
    });
    this.bound = Promise.all(options.hostForwards.map((f) => this.listen(f)));
    // Listening failures are reported by ready(); this keeps an unobserved failure from being fatal.
    this.bound.catch(() => undefined);
  }

  /** Resolves once every hostfwd listener is bound (with the ports bound), rejects with a VmmError naming the one that failed. */
  ready(): Promise<BoundForward[]> {
    return this.bound;
  }

  /** Live TCP connection states (tests and diagnostics). */
  tcpStates(): string[] {
    return this.tcp.states();
  }

  /** Host bytes each live TCP connection holds for the guest (tests and diagnostics). */
  tcpQueuedForGuest(): number[] {
    return this.tcp.queuedForGuest();
  }

  get udpFlows(): number {
    return this.udp.size;
  }

  send(frame: Uint8Array): void {
    if (this.closed) { this.counters.drop('send-after-close'); return; }
    this.counters.framesFromGuest++;
    try {
      this.receiveFrame(frame);
    } catch {
      // A parser or handler bug must not take the monitor down with it; the counter makes it visible.
      this.counters.drop('internal-error');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tcp.closeAll();
    this.udp.closeAll();
    await this.bound.catch(() => undefined);
    await Promise.all([
      ...this.tcpServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ...this.udpForwards.map((f) => f.close()),
    ]);
  }

  // ---- input ----

  private receiveFrame(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!eth) return this.counters.drop('ethernet-short');
    if (!macEquals(eth.dst, STACK_MAC) && !macEquals(eth.dst, BROADCAST_MAC)) return this.counters.drop('ethernet-not-for-us');
    if (eth.type === ETHERTYPE_ARP) return this.receiveArp(eth.payload);
    if (eth.type === ETHERTYPE_IPV4) return this.receiveIpv4(eth.src, eth.payload);
    this.counters.drop('ethernet-type');
  }

  private receiveArp(b: Uint8Array): void {
    const r = parseArp(b);
    if (!r.ok) return this.counters.drop(r.reason);
    const p = r.packet;
    if (inNetwork(p.senderIp) && isUnicastMac(p.senderMac) && !isStackAddress(p.senderIp)) this.learn(p.senderIp, p.senderMac);
    if (p.op === ARP_REQUEST && isStackAddress(p.targetIp)) {
      const reply = buildArp({ op: ARP_REPLY, senderMac: STACK_MAC, senderIp: p.targetIp, targetMac: p.senderMac, targetIp: p.senderIp });
      this.deliver(buildEthernet(p.senderMac, STACK_MAC, ETHERTYPE_ARP, reply));
    }
  }

  private learn(ip: number, mac: Uint8Array): void {
    const known = this.arp.lookup(ip);
    if (known && macEquals(known, mac)) return;
    for (const packet of this.arp.learn(ip, mac)) this.deliver(buildEthernet(mac, STACK_MAC, ETHERTYPE_IPV4, packet));
  }

  private receiveIpv4(srcMac: Uint8Array, b: Uint8Array): void {
    const r = parseIpv4(b);
    if (!r.ok) return this.counters.drop(r.reason);
    let p = r.packet;
    const broadcast = p.dst === BROADCAST_IP || p.dst === SUBNET_BROADCAST_IP;
    if (inNetwork(p.dst) && !isStackAddress(p.dst) && !broadcast) return this.counters.drop('ipv4-not-for-us');
    if (p.src !== 0 && !inNetwork(p.src)) return this.counters.drop('ipv4-source');
    if (p.src !== 0 && isUnicastMac(srcMac) && !isStackAddress(p.src)) this.learn(p.src, srcMac);
    if (p.moreFragments || p.fragmentOffset !== 0) {
      const done = this.fragments.add(p, Date.now());
      if (done.kind === 'dropped') return this.counters.drop(done.reason);
      if (done.kind === 'pending') return;
      p = done.packet;
    }
    switch (p.protocol) {
      case PROTO_ICMP: return this.receiveIcmp(p, broadcast);
      case PROTO_UDP: return this.receiveUdp(p, srcMac, broadcast);
      case PROTO_TCP: return broadcast ? this.counters.drop('ipv4-not-for-us') : this.receiveTcp(p);
      default: return this.counters.drop('ipv4-protocol');
    }
  }

  private receiveIcmp(p: Ipv4Packet, broadcast: boolean): void {
    const r = parseIcmp(p.payload);
    if (!r.ok) return this.counters.drop(r.reason);
    if (r.type !== ICMP_ECHO_REQUEST || broadcast || p.src === 0) return this.counters.drop('icmp-unsupported');
    if (isStackAddress(p.dst)) return this.emitIp(p.dst, p.src, PROTO_ICMP, buildEchoReply(p.payload));
    // Echo beyond the gateway is not relayed (that needs raw or ping sockets); say so when outbound is off.
    if (!this.options.outbound) this.unreachable(p, UNREACHABLE_ADMIN_PROHIBITED);
    this.counters.drop('icmp-unsupported');
  }

  private receiveUdp(p: Ipv4Packet, srcMac: Uint8Array, broadcast: boolean): void {
    const r = parseUdp(p.payload, p.src, p.dst);
    if (!r.ok) return this.counters.drop(r.reason);
    const d = r.datagram;
    if (d.dstPort === DHCP_SERVER_PORT && d.srcPort === DHCP_CLIENT_PORT && (broadcast || p.dst === GATEWAY_IP)) {
      return this.receiveDhcp(d.payload, srcMac);
    }
    if (broadcast || p.src === 0) return this.counters.drop('ipv4-not-for-us');
    const key: UdpFlowKey = { guestIp: p.src, guestPort: d.srcPort, remoteIp: p.dst, remotePort: d.dstPort };
    if (p.dst === DNS_IP) {
      if (d.dstPort !== DNS_PORT) { this.unreachable(p, UNREACHABLE_PORT); return this.counters.drop('udp-refused'); }
      if (!isWellFormedQuery(d.payload)) return this.counters.drop('dns-malformed');
      const resolver = this.resolver();
      if (!resolver) { this.unreachable(p, UNREACHABLE_PORT); return this.counters.drop('udp-refused'); }
      return this.udp.send(key, resolver.address, resolver.port, d.payload);
    }
    if (p.dst === GATEWAY_IP) {
      for (const f of this.udpForwards) if (f.fromGuest(d.dstPort, d.srcPort, d.payload)) return;
      return this.udp.send(key, this.tuning.hostLoopback, d.dstPort, d.payload);
    }
    if (!this.options.outbound) { this.unreachable(p, UNREACHABLE_ADMIN_PROHIBITED); return this.counters.drop('udp-refused'); }
    this.udp.send(key, ipv4Text(p.dst), d.dstPort, d.payload);
  }

  private receiveDhcp(b: Uint8Array, srcMac: Uint8Array): void {
    const r = parseDhcp(b);
    if (!r.ok) return this.counters.drop(r.reason);
    const reply = answerDhcp(r.request);
    if (!reply) return this.counters.drop('dhcp-unsupported');
    const toBroadcast = reply.broadcast || reply.yiaddr === 0;
    const dstIp = toBroadcast ? BROADCAST_IP : reply.yiaddr;
    const dstMac = toBroadcast ? BROADCAST_MAC : (isUnicastMac(r.request.chaddr) ? r.request.chaddr : srcMac);
    const udp = buildUdp(GATEWAY_IP, dstIp, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, reply.message);
    for (const packet of this.ip.build({ src: GATEWAY_IP, dst: dstIp, protocol: PROTO_UDP, payload: udp })) {
      this.deliver(buildEthernet(dstMac, STACK_MAC, ETHERTYPE_IPV4, packet));
    }
  }

  private receiveTcp(p: Ipv4Packet): void {
    if (p.src === 0) return this.counters.drop('ipv4-source');
    const r = parseTcp(p.payload, p.src, p.dst);
    if (!r.ok) return this.counters.drop(r.reason);
    const s = r.segment;
    this.tcp.segment({ guestIp: p.src, guestPort: s.srcPort, remoteIp: p.dst, remotePort: s.dstPort }, s);
  }

  private tcpTarget(ip: number, port: number): TcpTarget {
    if (ip === GATEWAY_IP) return { host: this.tuning.hostLoopback, port };
    if (ip === DNS_IP) {
      const resolver = port === DNS_PORT ? this.resolver() : undefined;
      return resolver ? { host: resolver.address, port: resolver.port } : undefined;
    }
    if (inNetwork(ip) || !this.options.outbound) return undefined;
    return { host: ipv4Text(ip), port };
  }

  private resolver(): ResolverAddress | undefined {
    this.resolverCache ??= this.tuning.resolver ?? systemResolver();
    return this.resolverCache;
  }

  // ---- output ----

  private deliver(frame: Uint8Array): void {
    queueMicrotask(() => {
      if (this.closed || !this.onReceive) return;
      this.counters.framesToGuest++;
      this.onReceive(frame);
    });
  }

  /** Sends an IPv4 payload to a guest-side address, resolving its MAC (by ARP when unknown). */
  private emitIp(src: number, dst: number, protocol: number, payload: Uint8Array): void {
    if (this.closed) return;
    const mac = this.arp.lookup(dst);
    for (const packet of this.ip.build({ src, dst, protocol, payload })) {
      if (mac) { this.deliver(buildEthernet(mac, STACK_MAC, ETHERTYPE_IPV4, packet)); continue; }
      if (this.arp.hold(dst, packet) === 'full') this.counters.drop('arp-queue-full');
      this.requestArp(dst);
    }
  }

  private requestArp(ip: number): void {
    const now = Date.now();
    if (now - (this.arpRequested.get(ip) ?? -Infinity) < ARP_REQUEST_INTERVAL_MS) return;
    this.arpRequested.set(ip, now);
    const req = buildArp({ op: ARP_REQUEST, senderMac: STACK_MAC, senderIp: GATEWAY_IP, targetMac: new Uint8Array(6), targetIp: ip });
    this.deliver(buildEthernet(BROADCAST_MAC, STACK_MAC, ETHERTYPE_ARP, req));
  }

  private emitUdp(src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): void {
    this.emitIp(src, dst, PROTO_UDP, buildUdp(src, dst, srcPort, dstPort, payload));
  }

  private emitTcp(e: TcpEndpoint, seg: SegmentOut): void {
    const segment = buildTcp({ ...seg, src: e.remoteIp, dst: e.guestIp, srcPort: e.remotePort, dstPort: e.guestPort });
    this.emitIp(e.remoteIp, e.guestIp, PROTO_TCP, segment);
  }

  private unreachable(p: Ipv4Packet, code: number): void {
    this.emitIp(GATEWAY_IP, p.src, PROTO_ICMP, buildUnreachable(code, p.header, p.payload));
  }

  // ---- hostfwd ----

  private listen(f: HostForward): Promise<BoundForward> {
    return f.protocol === 'tcp' ? this.listenTcp(f) : this.listenUdp(f);
  }

  private listenTcp(f: HostForward): Promise<BoundForward> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      if (this.closed) { socket.destroy(); return; }
      this.tcp.forward(socket, GUEST_IP, f.guestPort, GATEWAY_IP);
    });
    this.tcpServers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(f, e)));
      server.listen(f.hostPort, f.hostAddress, () => {
        const addr = server.address();
        resolve({ forward: f, port: typeof addr === 'object' && addr ? addr.port : f.hostPort });
      });
    });
  }

  private async listenUdp(f: HostForward): Promise<BoundForward> {
    const fwd = new UdpForward(f, {
      deliver: (gatewayPort, guestPort, payload) => this.emitUdp(GATEWAY_IP, GUEST_IP, gatewayPort, guestPort, payload),
      allocatePort: () => this.allocateUdpForwardPort(),
      release: (port) => this.udpForwardPorts.delete(port),
    });
    this.udpForwards.push(fwd);
    try {
      await fwd.listening;
    } catch (e) {
      throw listenError(f, e as NodeJS.ErrnoException);
    }
    return { forward: f, port: fwd.port() };
  }

  private allocateUdpForwardPort(): number | undefined {
    for (let i = 0; i < UDP_FORWARD_PORT_COUNT; i++) {
      const port = UDP_FORWARD_PORT_FIRST + ((this.nextUdpForwardPort + i) % UDP_FORWARD_PORT_COUNT);
      if (!this.udpForwardPorts.has(port)) {
        this.udpForwardPorts.add(port);
        this.nextUdpForwardPort = (this.nextUdpForwardPort + i + 1) % UDP_FORWARD_PORT_COUNT;
        return port;
      }
    }
    return undefined;
  }
}

function listenError(f: HostForward, e: NodeJS.ErrnoException): VmmError {
  const code = e.code === 'EADDRINUSE' ? 'EBUSY' : e.code === 'EACCES' ? 'EACCES' : 'EINVAL';
  return new VmmError(code, `hostfwd=${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}: cannot listen (${e.message})`);
}

export type { DropReason };
