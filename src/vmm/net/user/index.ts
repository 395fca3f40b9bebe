/**
 * createUserNetwork: QEMU-style user-mode networking for a guest NIC, written in TypeScript over
 * node:net and node:dgram (no root, no host configuration). See stack.ts for what it answers and
 * bridges, addresses.ts for the addresses.
 *
 * Use (in a thread with an event loop):
 *   const net = createUserNetwork({ hostForwards, outbound: false });
 *   await net.ready();                       // hostfwd listeners bound (VmmError EBUSY etc. otherwise)
 *   net.onReceive = (frame) => toGuest(frame); // called from a microtask, never inside send()
 *   fromGuest = (frame) => net.send(frame);  // whole Ethernet frames; never throws; bad frames are counted
 *   net.counters                             // frames in/out and drops by reason
 *   await net.close();                       // sockets, listeners and timers released
 */
import { isIP } from 'node:net';
import { VmmError } from '../../../api/errors.js';
import type { HostForward, UserNetOptions } from '../backend.js';
import { UserNetwork } from './stack.js';
import { defaultTuning } from './tuning.js';
import type { UserNetTuning } from './tuning.js';

export { UserNetwork } from './stack.js';
export type { BoundForward } from './stack.js';
export type { UserNetTuning } from './tuning.js';
export { NetCounters, DROP_REASONS } from './counters.js';
export type { DropReason } from './counters.js';

function validPort(p: number, allowZero: boolean): boolean {
  return Number.isInteger(p) && p >= (allowZero ? 0 : 1) && p <= 65535;
}

function checkForward(f: HostForward): void {
  const name = `hostfwd=${String(f.protocol)}:${String(f.hostAddress)}:${String(f.hostPort)}-:${String(f.guestPort)}`;
  if (f.protocol !== 'tcp' && f.protocol !== 'udp') throw new VmmError('EINVAL', `${name}: protocol must be tcp or udp`);
  if (typeof f.hostAddress !== 'string' || isIP(f.hostAddress) === 0) {
    throw new VmmError('EINVAL', `${name}: host address '${String(f.hostAddress)}' is not an IP address`);
  }
  if (!validPort(f.hostPort, true)) throw new VmmError('EINVAL', `${name}: host port ${String(f.hostPort)} is not in 0..65535`);
  if (!validPort(f.guestPort, false)) throw new VmmError('EINVAL', `${name}: guest port ${String(f.guestPort)} is not in 1..65535`);
}

/**
 * The user network for one NIC. hostfwd listeners start listening at once; await ready() to know
 * they are bound (it rejects with a VmmError, e.g. EBUSY for a port in use). `tuning` is for tests.
 */
export function createUserNetwork(options: UserNetOptions, tuning: Partial<UserNetTuning> = {}): UserNetwork {
  if (!options || !Array.isArray(options.hostForwards)) throw new VmmError('EINVAL', 'user network options need a hostForwards array');
  if (typeof options.outbound !== 'boolean') throw new VmmError('EINVAL', `outbound must be a boolean, not ${String(options.outbound)}`);
  const seen = new Set<string>();
  for (const f of options.hostForwards) {
    checkForward(f);
    const key = `${f.protocol}:${f.hostAddress}:${f.hostPort}`;
    if (f.hostPort !== 0 && seen.has(key)) throw new VmmError('EEXIST', `hostfwd ${key} is given twice`);
    seen.add(key);
  }
  return new UserNetwork({ hostForwards: [...options.hostForwards], outbound: options.outbound }, { ...defaultTuning(), ...tuning });
}
