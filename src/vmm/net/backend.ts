/**
 * Where a guest NIC's frames go on the host: a user-mode network stack (net/user), a tap device
 * (net/tap.ts), or a test's own sink. A backend lives in a thread with an event loop (the monitor's
 * main thread), since host sockets and file descriptors are asynchronous; the virtio-net device in
 * the vCPU thread reaches it through the monitor's frame transport and knows nothing of it.
 *
 * Frames are whole Ethernet frames (destination MAC first, no FCS, no virtio-net header).
 */
export interface NetBackend {
  /** A frame the guest sent. The backend copies what it keeps: the caller may reuse the bytes. */
  send(frame: Uint8Array): void;
  /** Set by the owner before the first send: the backend calls it with each frame for the guest. */
  onReceive: ((frame: Uint8Array) => void) | undefined;
  /** Releases sockets, listeners and descriptors; sends after close are dropped. */
  close(): Promise<void>;
}

/** `hostfwd=tcp:127.0.0.1:6022-:22`: host address and port forwarded to a port of the guest. */
export interface HostForward {
  protocol: 'tcp' | 'udp';
  hostAddress: string;
  hostPort: number;
  guestPort: number;
}

/** `--net user[,hostfwd=...][,outbound=on]`: QEMU's user-mode network (10.0.2.0/24, gateway .2, DNS .3, guest .15). */
export interface UserNetOptions {
  hostForwards: HostForward[];
  /** Whether the guest may reach addresses other than the gateway (off by default: a sandbox must not reach the network by surprise). */
  outbound: boolean;
}
