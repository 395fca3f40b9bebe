/**
 * The vCPU thread of `tsvisor run`: builds the machine and runs its vCPU loop (machine.ts), with
 * the devices in this thread too. The guest's serial output goes to the main thread as messages
 * (batched, all of it before the end message); host input arrives through shared memory
 * (host-input.ts), since this thread is inside the guest or asleep and reads no messages. Network
 * frames likewise: the NICs' frames go out as messages, frames for them come through frame rings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { VmmError } from '../../api/errors.js';
import type { FrameRingBuffers } from './frame-ring.js';
import { HostInputReader, hostInputDoorbell, type HostInputBuffers } from './host-input.js';
import { runMachine } from './machine.js';
import type { Platform } from './platform.js';
import type { VmConfig } from './vm-config.js';
import type { WorkerMessage } from './worker-messages.js';

const { config, input: inputBuffers, netRings, vsockRing } = workerData as {
  config: VmConfig; input: HostInputBuffers; netRings: FrameRingBuffers[]; vsockRing: FrameRingBuffers | undefined;
};
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
const input = new HostInputReader(inputBuffers);
let out: number[] = [];
let uart: Platform['uart'] | undefined;

/**
 * Serial output leaves a line at a time, at 4 KiB, at the first exit FLUSH_MS after its oldest
 * byte, and whenever the guest idles (then it waits for input: a prompt shows) or the machine
 * ends. The guest writes its console a byte per exit, and a message per exit (as output left
 * before) cost the two threads ~10 us of CPU per byte (~18 K bytes to Linux's `Run /init`).
 */
const FLUSH_MS = 5;
let oldest = 0;

function flush(): void {
  if (out.length === 0) return;
  post({ type: 'output', bytes: Uint8Array.from(out) });
  out = [];
}

function serialOutput(b: number): void {
  out.push(b);
  if (b === 0x0a || out.length >= 4096) flush();
  else if (out.length === 1) oldest = performance.now();
}

try {
  const result = runMachine(config, {
    serialOutput,
    say: (line) => post({ type: 'say', line }),
    onPlatform: (platform, stop) => { uart = platform.uart; post({ type: 'stop-handle', handle: stop }); },
    beforeRun: () => {
      if (out.length !== 0 && performance.now() - oldest >= FLUSH_MS) flush();
      if (uart) input.drain((bytes) => uart!.receive(bytes));
    },
    waitForInput: (ms, ready) => {
      flush();
      input.wait(ms, ready);
    },
    wakeWord: hostInputDoorbell(inputBuffers),
    net: {
      rings: netRings,
      transmit: (nic, frame) => port.postMessage({ type: 'net-tx', nic, frame } satisfies WorkerMessage, [frame.buffer as ArrayBuffer]),
    },
    vsock: vsockRing && {
      ring: vsockRing,
      transmit: (packet) => port.postMessage({ type: 'vsock-tx', packet } satisfies WorkerMessage, [packet.buffer as ArrayBuffer]),
      reset: () => post({ type: 'vsock-reset' }),
    },
    quitRequested: () => input.quitRequested,
  });
  flush();
  post({ type: 'end', end: result.end === undefined ? { kind: 'quit' } : result.end });
} catch (e) {
  flush();
  post({ type: 'error', message: e instanceof VmmError ? e.message : (e as Error).stack ?? String(e) });
}
