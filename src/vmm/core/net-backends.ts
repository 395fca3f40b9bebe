/**
 * What `tsvisor run` attaches each NIC to, in the main thread: the user-mode network stack
 * (net/user), resolved once its hostfwd listeners are bound, or a tap device (net/tap.ts).
 */
import type { NetBackend } from '../net/backend.js';
import { openTap } from '../net/tap.js';
import { createUserNetwork } from '../net/user/index.js';
import type { NicBackendConfig } from './net-config.js';

export async function openNetBackend(config: NicBackendConfig): Promise<NetBackend> {
  switch (config.kind) {
    case 'user': {
      const net = createUserNetwork(config.options);
      try {
        await net.ready();
      } catch (e) {
        await net.close();
        throw e;
      }
      return net;
    }
    case 'tap':
      return openTap(config.name);
  }
}
