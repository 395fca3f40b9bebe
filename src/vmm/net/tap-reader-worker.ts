/**
 * The tap reader: a worker thread that sleeps in poll() on the tap descriptor and a wake-up
 * eventfd, reads every frame that is ready (the descriptor is non-blocking) and posts it to the
 * main thread. Writing the eventfd (close) ends it. This keeps blocking reads off the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EAGAIN, EINTR, POLLERR, POLLHUP, POLLIN, POLLNVAL, lastErrno, tapSys } from './tap-libc.js';

export interface TapReaderData {
  tapFd: number;
  wakeFd: number;
}

export type TapReaderMessage = { kind: 'frame'; frame: Uint8Array } | { kind: 'error'; message: string };

const { tapFd, wakeFd } = workerData as TapReaderData;
const port = parentPort!;
const MAX_FRAME = 65536;
const fds = new Uint8Array(16);
const view = new DataView(fds.buffer);
view.setInt32(0, tapFd, true);
view.setInt16(4, POLLIN, true);
view.setInt32(8, wakeFd, true);
view.setInt16(12, POLLIN, true);

const buf = new Uint8Array(MAX_FRAME);

function readReady(): boolean {
  for (;;) {
    const n = tapSys.read(tapFd, buf, MAX_FRAME);
    if (n > 0) {
      const frame = buf.slice(0, n); // a copy of its own, transferred to the main thread
      port.postMessage({ kind: 'frame', frame } satisfies TapReaderMessage, [frame.buffer]);
      continue;
    }
    const err = n < 0 ? lastErrno() : 0;
    if (err === EAGAIN || err === EINTR) return true;
    port.postMessage({ kind: 'error', message: `tap read failed: ${n < 0 ? tapSys.strerror(err) : 'end of file'}` } satisfies TapReaderMessage);
    return false;
  }
}

for (;;) {
  view.setInt16(6, 0, true);
  view.setInt16(14, 0, true);
  const rc = tapSys.poll(fds, 2, -1);
  if (rc < 0) {
    if (lastErrno() === EINTR) continue;
    port.postMessage({ kind: 'error', message: `tap poll failed: ${tapSys.strerror(lastErrno())}` } satisfies TapReaderMessage);
    break;
  }
  if (view.getInt16(14, true) !== 0) break; // woken by close()
  const revents = view.getInt16(6, true);
  if (revents & POLLIN) {
    if (!readReady()) break;
  } else if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
    port.postMessage({ kind: 'error', message: `tap descriptor failed (poll events ${revents})` } satisfies TapReaderMessage);
    break;
  }
}
