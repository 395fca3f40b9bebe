/**
 * The DHCP server (RFC 2131/2132) of the user network: one lease, 10.0.2.15, with mask /24, router
 * 10.0.2.2 and DNS 10.0.2.3 - what udhcpc and dhclient need to configure the guest.
 */
import { read16, read32, write16, write32 } from './bytes.js';
import { DNS_IP, GATEWAY_IP, GUEST_IP, NETMASK } from './addresses.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const LEASE_SECONDS = 86400;

const BOOTREQUEST = 1, BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
const FIXED_LENGTH = 236;
const FLAG_BROADCAST = 0x8000;

/** Message types (option 53). */
export const DHCP = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

/** Option codes the server reads or writes. */
const OPT = {
  PAD: 0, SUBNET_MASK: 1, ROUTER: 3, DNS: 6, REQUESTED_IP: 50, LEASE_TIME: 51, MESSAGE_TYPE: 53,
  SERVER_ID: 54, RENEWAL_TIME: 58, REBINDING_TIME: 59, END: 255,
} as const;

export interface DhcpRequest {
  xid: number;
  flags: number;
  ciaddr: number;
  chaddr: Uint8Array;
  messageType: number;
  requestedIp: number | undefined;
  serverId: number | undefined;
}

export type DhcpParse = { ok: true; request: DhcpRequest } | { ok: false; reason: 'dhcp-malformed' | 'dhcp-unsupported' };

export function parseDhcp(b: Uint8Array): DhcpParse {
  if (b.length < FIXED_LENGTH + 4) return { ok: false, reason: 'dhcp-malformed' };
  if (b[0] !== BOOTREQUEST) return { ok: false, reason: 'dhcp-unsupported' };
  if (b[1] !== 1 || b[2] !== 6) return { ok: false, reason: 'dhcp-unsupported' };
  if (read32(b, FIXED_LENGTH) !== MAGIC_COOKIE) return { ok: false, reason: 'dhcp-malformed' };
  const options = new Map<number, Uint8Array>();
  let i = FIXED_LENGTH + 4;
  let ended = false;
  while (i < b.length) {
    const code = b[i];
    if (code === OPT.PAD) { i++; continue; }
    if (code === OPT.END) { ended = true; break; }
    if (i + 1 >= b.length) return { ok: false, reason: 'dhcp-malformed' };
    const len = b[i + 1];
    if (i + 2 + len > b.length) return { ok: false, reason: 'dhcp-malformed' };
    if (!options.has(code)) options.set(code, b.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  if (!ended) return { ok: false, reason: 'dhcp-malformed' };
  const type = options.get(OPT.MESSAGE_TYPE);
  if (!type || type.length !== 1) return { ok: false, reason: 'dhcp-malformed' };
  const address = (code: number): number | undefined => {
    const v = options.get(code);
    return v && v.length === 4 ? read32(v, 0) : undefined;
  };
  return {
    ok: true,
    request: {
      xid: read32(b, 4),
      flags: read16(b, 10),
      ciaddr: read32(b, 12),
      chaddr: b.slice(28, 34),
      messageType: type[0],
      requestedIp: address(OPT.REQUESTED_IP),
      serverId: address(OPT.SERVER_ID),
    },
  };
}

export interface DhcpReply {
  type: number;
  /** The address given (0 for NAK and for an INFORM's ACK). */
  yiaddr: number;
  message: Uint8Array;
  /** Whether the client asked for a broadcast reply (or cannot take unicast yet). */
  broadcast: boolean;
}

/** The server's answer to a request, or undefined for messages that take none (RELEASE, DECLINE, other servers'). */
export function answerDhcp(req: DhcpRequest): DhcpReply | undefined {
  switch (req.messageType) {
    case DHCP.DISCOVER:
      return reply(req, DHCP.OFFER, GUEST_IP, true);
    case DHCP.REQUEST: {
      // A REQUEST naming another server is the client choosing that server's offer.
      if (req.serverId !== undefined && req.serverId !== GATEWAY_IP) return undefined;
      const wanted = req.requestedIp ?? req.ciaddr;
      if (wanted !== GUEST_IP) return reply(req, DHCP.NAK, 0, false);
      return reply(req, DHCP.ACK, GUEST_IP, true);
    }
    case DHCP.INFORM:
      return reply(req, DHCP.ACK, 0, true);
    default:
      return undefined;
  }
}

function reply(req: DhcpRequest, type: number, yiaddr: number, withConfig: boolean): DhcpReply {
  const opts: number[] = [OPT.MESSAGE_TYPE, 1, type, OPT.SERVER_ID, 4, ...bytesOf(GATEWAY_IP)];
  if (withConfig) {
    opts.push(OPT.SUBNET_MASK, 4, ...bytesOf(NETMASK), OPT.ROUTER, 4, ...bytesOf(GATEWAY_IP), OPT.DNS, 4, ...bytesOf(DNS_IP));
    if (yiaddr !== 0) {
      opts.push(OPT.LEASE_TIME, 4, ...bytesOf(LEASE_SECONDS));
      opts.push(OPT.RENEWAL_TIME, 4, ...bytesOf(LEASE_SECONDS / 2), OPT.REBINDING_TIME, 4, ...bytesOf((LEASE_SECONDS * 7) / 8));
    }
  }
  opts.push(OPT.END);
  const b = new Uint8Array(Math.max(300, FIXED_LENGTH + 4 + opts.length));
  b[0] = BOOTREPLY;
  b[1] = 1;
  b[2] = 6;
  write32(b, 4, req.xid);
  write16(b, 10, req.flags);
  if (type === DHCP.ACK && yiaddr === 0) write32(b, 12, req.ciaddr);
  write32(b, 16, yiaddr);
  write32(b, 20, GATEWAY_IP);
  b.set(req.chaddr, 28);
  write32(b, FIXED_LENGTH, MAGIC_COOKIE);
  b.set(opts, FIXED_LENGTH + 4);
  const broadcast = (req.flags & FLAG_BROADCAST) !== 0 || type === DHCP.NAK || req.ciaddr === 0;
  return { type, yiaddr, message: b, broadcast };
}

function bytesOf(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
