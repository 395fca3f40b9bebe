/**
 * The vCPU thread of `tsvisor run`: builds the machine and runs its vCPU loop (machine.ts), with
 * the devices in this thread too. The guest's serial output goes to the main thread as messages
 * (batched per exit, all of it before the end message); host input arrives through shared memory
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

function flush(): void {
  if (out.length === 0) return;
  post({ type: 'output', bytes: Uint8Array.from(out) });
  out = [];
}

try {
  const result = runMachine(config, {
    serialOutput: (b) => { out.push(b); if (out.length >= 4096) flush(); },
    say: (line) => post({ type: 'say', line }),
    onPlatform: (platform, stop) => { uart = platform.uart; post({ type: 'stop-handle', handle: stop }); },
    beforeRun: () => {
      flush();
      if (uart) input.drain((bytes) => uart!.receive(bytes));
    },
    waitForInput: (ms, ready) => input.wait(ms, ready),
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
