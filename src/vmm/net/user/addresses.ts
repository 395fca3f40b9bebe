/**
 * QEMU's user-network conventions: network 10.0.2.0/24, gateway 10.0.2.2 (stands for the host's
 * loopback), DNS 10.0.2.3 (relayed to the host's resolver), the guest's address 10.0.2.15 by DHCP.
 * IPv4 addresses are held as unsigned 32-bit numbers, MACs as 6-byte arrays.
 */
import { VmmError } from '../../../api/errors.js';

export function ipv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new VmmError('EINVAL', `not an IPv4 address: '${text}'`);
  }
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

export function ipv4Text(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.');
}

export const NETWORK = ipv4('10.0.2.0');
export const NETMASK = ipv4('255.255.255.0');
export const GATEWAY_IP = ipv4('10.0.2.2');
export const DNS_IP = ipv4('10.0.2.3');
export const GUEST_IP = ipv4('10.0.2.15');
export const BROADCAST_IP = ipv4('255.255.255.255');
export const SUBNET_BROADCAST_IP = ipv4('10.0.2.255');
/** The host loopback address the gateway stands for. */
export const HOST_LOOPBACK = '127.0.0.1';

/** The MAC the stack answers with for the gateway and DNS addresses (QEMU's is 52:55:0a:00:02:02). */
export const STACK_MAC = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export function inNetwork(ip: number): boolean {
  return ((ip & NETMASK) >>> 0) === NETWORK;
}

/** Addresses the stack itself answers for (ARP, ICMP echo). */
export function isStackAddress(ip: number): boolean {
  return ip === GATEWAY_IP || ip === DNS_IP;
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A unicast MAC: the group bit of the first byte is clear (broadcast and multicast MACs have it set). */
export function isUnicastMac(mac: Uint8Array): boolean {
  return (mac[0] & 1) === 0;
}

export function macText(mac: Uint8Array): string {
  return [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
