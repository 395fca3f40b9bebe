/**
 * `--net` for `tsvisor run`: each occurrence is one virtio-net NIC and what it is attached to.
 *
 *   --net user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[10.0.2.15]:GUESTPORT]...[,outbound=on|off][,mac=MAC]
 *   --net tap=NAME[,mac=MAC]
 *
 * The hostfwd syntax is QEMU's; the host address defaults to 127.0.0.1 (QEMU's default is every
 * interface, which a sandbox must not get by surprise). NICs without mac= get QEMU's
 * 52:54:00:12:34:56, then :57, :58, ... skipping any MAC another NIC was given; two NICs with one
 * MAC are refused. Everything wrong is a VmmError 'EINVAL' naming the bad value.
 */
import { isIPv4 } from 'node:net';
import { VmmError } from '../../api/errors.js';
import type { HostForward, UserNetOptions } from '../net/backend.js';

export type NicBackendConfig =
  | { kind: 'user'; options: UserNetOptions }
  | { kind: 'tap'; name: string };

export interface NicConfig {
  /** Six lower-case hex pairs separated by colons. */
  mac: string;
  backend: NicBackendConfig;
}

/** One --net as written, before MACs are assigned across NICs. */
export interface NicSpec {
  mac?: string;
  backend: NicBackendConfig;
}

/** The user network's guest address (QEMU's), the only guest address a forward may name. */
export const USER_NET_GUEST_ADDRESS = '10.0.2.15';
const DEFAULT_FORWARD_HOST = '127.0.0.1';
/** QEMU's first NIC MAC; later NICs count up in the last byte. */
const DEFAULT_MAC_PREFIX = [0x52, 0x54, 0x00, 0x12, 0x34];
const DEFAULT_MAC_FIRST = 0x56;
/** Linux interface names are at most IFNAMSIZ - 1 bytes. */
const MAX_IFNAME = 15;

function bad(spec: string, why: string): VmmError {
  return new VmmError('EINVAL', `--net ${spec}: ${why}`);
}

export function parseNetSpec(spec: string): NicSpec {
  const [kind, ...options] = spec.split(',');
  let mac: string | undefined;
  const takeMac = (value: string): void => {
    if (mac !== undefined) throw bad(spec, 'mac= given twice');
    mac = parseMac(value, spec);
  };
  if (kind === 'user') {
    const forwards: HostForward[] = [];
    let outbound: boolean | undefined;
    for (const opt of options) {
      const [key, value] = splitOption(opt, spec);
      if (key === 'hostfwd') forwards.push(parseHostForward(value, spec, forwards));
      else if (key === 'outbound') {
        if (outbound !== undefined) throw bad(spec, 'outbound= given twice');
        if (value !== 'on' && value !== 'off') throw bad(spec, `outbound must be on or off, got ${JSON.stringify(value)}`);
        outbound = value === 'on';
      } else if (key === 'mac') takeMac(value);
      else throw bad(spec, `unknown user network option ${JSON.stringify(key)} (hostfwd, outbound, mac)`);
    }
    return { mac, backend: { kind: 'user', options: { hostForwards: forwards, outbound: outbound ?? false } } };
  }
  if (kind?.startsWith('tap=') || kind === 'tap') {
    const name = kind.slice(4);
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.length > MAX_IFNAME || name === '.' || name === '..') {
      throw bad(spec, `tap needs an interface name of 1..${MAX_IFNAME} letters, digits, '_', '.' or '-' (tap=NAME), got ${JSON.stringify(name)}`);
    }
    for (const opt of options) {
      const [key, value] = splitOption(opt, spec);
      if (key === 'mac') takeMac(value);
      else throw bad(spec, `unknown tap option ${JSON.stringify(key)} (only mac)`);
    }
    return { mac, backend: { kind: 'tap', name } };
  }
  throw bad(spec, `expected user[,...] or tap=NAME[,...], got ${JSON.stringify(kind)}`);
}

function splitOption(opt: string, spec: string): [string, string] {
  const eq = opt.indexOf('=');
  if (eq <= 0) throw bad(spec, `expected KEY=VALUE, got ${JSON.stringify(opt)}`);
  return [opt.slice(0, eq), opt.slice(eq + 1)];
}

/** `[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT` (QEMU's hostfwd). */
export function parseHostForward(text: string, spec: string, earlier: readonly HostForward[] = []): HostForward {
  const m = /^(?:(tcp|udp):)?([^:-]*):([^:-]*)-([^:-]*):([^:-]*)$/.exec(text);
  if (!m) throw bad(spec, `hostfwd must look like tcp:127.0.0.1:6022-:22, got ${JSON.stringify(text)}`);
  const protocol = (m[1] ?? 'tcp') as 'tcp' | 'udp';
  const hostAddress = m[2] || DEFAULT_FORWARD_HOST;
  if (!isIPv4(hostAddress)) throw bad(spec, `hostfwd host address must be an IPv4 address, got ${JSON.stringify(m[2])}`);
  const guestAddress = m[4];
  if (guestAddress && guestAddress !== USER_NET_GUEST_ADDRESS) {
    throw bad(spec, `hostfwd guest address can only be the guest's ${USER_NET_GUEST_ADDRESS}, got ${JSON.stringify(guestAddress)}`);
  }
  const fwd: HostForward = { protocol, hostAddress, hostPort: parsePort(m[3]!, 'host', spec), guestPort: parsePort(m[5]!, 'guest', spec) };
  const clash = earlier.find((f) => f.protocol === fwd.protocol && f.hostPort === fwd.hostPort && f.hostAddress === fwd.hostAddress);
  if (clash) throw bad(spec, `hostfwd ${protocol}:${hostAddress}:${fwd.hostPort} is forwarded twice`);
  return fwd;
}

function parsePort(text: string, which: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw bad(spec, `hostfwd ${which} port must be 1..65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Six hex pairs separated by ':' (or '-'); unicast (a NIC address cannot be multicast) and not all zeros. */
export function parseMac(text: string, spec: string): string {
  if (!/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(text)) throw bad(spec, `mac must be six hex pairs like 52:54:00:12:34:56, got ${JSON.stringify(text)}`);
  const bytes = text.split(/[:-]/).map((h) => parseInt(h, 16));
  if (bytes[0]! & 1) throw bad(spec, `mac ${text} is a multicast address (lowest bit of the first byte set)`);
  if (bytes.every((b) => b === 0)) throw bad(spec, 'mac 00:00:00:00:00:00 is not an address');
  return formatMac(bytes);
}

function formatMac(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** Gives every NIC without a MAC the next free default one; two NICs with the same MAC are refused. */
export function assignMacs(specs: readonly NicSpec[]): NicConfig[] {
  const given = new Set<string>();
  for (const s of specs) {
    if (s.mac === undefined) continue;
    if (given.has(s.mac)) throw new VmmError('EINVAL', `--net: two NICs with MAC ${s.mac}`);
    given.add(s.mac);
  }
  let next = DEFAULT_MAC_FIRST;
  return specs.map((s) => {
    if (s.mac !== undefined) return { mac: s.mac, backend: s.backend };
    let mac: string;
    do {
      if (next > 0xff) throw new VmmError('EINVAL', '--net: too many NICs for the default MAC range; give mac=');
      mac = formatMac([...DEFAULT_MAC_PREFIX, next++]);
    } while (given.has(mac));
    return { mac, backend: s.backend };
  });
}
