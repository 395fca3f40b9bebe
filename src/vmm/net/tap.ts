/**
 * The tap backend: the guest NIC's frames go to an existing tap interface through /dev/net/tun
 * (TUNSETIFF with IFF_TAP | IFF_NO_PI: whole Ethernet frames, no packet-information header).
 * Frames from the tap are read in a worker thread (tap-reader-worker.ts); writes are non-blocking
 * and a frame the kernel will not take now is dropped, as on a real wire.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { VmmError } from '../../api/errors.js';
import type { VmmErrorCode } from '../../api/errors.js';
import type { NetBackend } from './backend.js';
import {
  EFD_CLOEXEC, EFD_NONBLOCK, IFF_NO_PI, IFF_TAP, IFNAMSIZ, IFREQ_SIZE, O_CLOEXEC, O_NONBLOCK, O_RDWR, TUNSETIFF,
  lastErrno, tapSys,
} from './tap-libc.js';
import type { TapReaderData, TapReaderMessage } from './tap-reader-worker.js';

const TUN_DEVICE = '/dev/net/tun';

const ERRNO_CODES: Record<number, VmmErrorCode> = { 1: 'EPERM', 2: 'ENODEV', 6: 'ENODEV', 13: 'EACCES', 16: 'EBUSY', 19: 'ENODEV', 22: 'EINVAL' };

function sysError(what: string, err: number, hint = ''): VmmError {
  return new VmmError(ERRNO_CODES[err] ?? 'EIO', `${what}: ${tapSys.strerror(err)} (errno ${err})${hint}`);
}

export interface TapBackend extends NetBackend {
  readonly name: string;
  /** Frames the kernel would not take (queue full, interface down) and read errors. */
  readonly dropped: number;
}

/** Attaches to the existing tap interface `name`; a clear VmmError when /dev/net/tun or the interface is unusable. */
export function openTap(name: string): TapBackend {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) >= IFNAMSIZ || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw new VmmError('EINVAL', `tap: '${String(name)}' is not an interface name (1-15 bytes, no '/', ':' or spaces)`);
  }
  if (!existsSync(TUN_DEVICE)) throw new VmmError('ENODEV', `tap: ${TUN_DEVICE} does not exist (no tun driver, or not in this container)`);
  // TUNSETIFF would create a missing interface; the backend only attaches to one that exists and is a tun/tap.
  if (!existsSync(`/sys/class/net/${name}`)) throw new VmmError('ENODEV', `tap: no network interface '${name}' (create it with: ip tuntap add dev ${name} mode tap)`);
  if (!existsSync(`/sys/class/net/${name}/tun_flags`)) throw new VmmError('EINVAL', `tap: interface '${name}' is not a tun/tap device`);
  const fd = tapSys.open(TUN_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw sysError(`tap: cannot open ${TUN_DEVICE}`, lastErrno(), ' (it needs read-write access)');
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(Buffer.from(name), 0);
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI, true);
  if (tapSys.ioctlBuf(fd, TUNSETIFF, ifr) < 0) {
    const err = lastErrno();
    tapSys.close(fd);
    throw sysError(`tap: cannot attach to '${name}' (TUNSETIFF)`, err,
      err === 22 ? ' (is it a tun device rather than a tap?)' : err === 1 ? ' (needs CAP_NET_ADMIN or ownership of the tap)' : err === 16 ? ' (another process holds it)' : '');
  }
  const wakeFd = tapSys.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd < 0) {
    const err = lastErrno();
    tapSys.close(fd);
    throw sysError('tap: eventfd', err);
  }
  return new Tap(name, fd, wakeFd);
}

class Tap implements TapBackend {
  onReceive: ((frame: Uint8Array) => void) | undefined;
  dropped = 0;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private closed = false;

  constructor(readonly name: string, private readonly fd: number, private readonly wakeFd: number) {
    this.worker = new Worker(new URL('./tap-reader-worker.js', import.meta.url), {
      workerData: { tapFd: fd, wakeFd } satisfies TapReaderData,
    });
    this.worker.on('message', (m: TapReaderMessage) => {
      if (m.kind === 'frame') { if (!this.closed) this.onReceive?.(m.frame); } else this.dropped++;
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', () => { this.dropped++; });
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (tapSys.write(this.fd, frame, frame.length) !== frame.length) this.dropped++;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const one = new Uint8Array(8);
    one[0] = 1;
    tapSys.write(this.wakeFd, one, 8);
    await this.exited;
    tapSys.close(this.fd);
    tapSys.close(this.wakeFd);
  }
}
