/**
 * The main-thread side of `tsvisor run`: starts the vCPU thread (vcpu-worker.ts), connects the
 * guest's serial console to the terminal (raw mode on a TTY, Ctrl-A x quits as in QEMU; plain
 * stdin otherwise), and turns how the machine ended into an exit code and a one-line reason.
 */
import { Worker } from 'node:worker_threads';
import { VmmError, hex } from '../../api/errors.js';
import type { VcpuStopHandle } from '../../api/types.js';
import { stopVcpu } from '../../frontend/stop.js';
import { writeAllSync } from '../host-output.js';
import { createHostInput, HostInputWriter } from './host-input.js';
import type { NetBackend } from '../net/backend.js';
import { createFrameRing, FrameRingWriter } from './frame-ring.js';
import { LosslessRingWriter } from './lossless-ring-writer.js';
import { VsockUnixBridge } from '../devices/virtio/vsock-unix-bridge.js';
import type { NicBackendConfig } from './net-config.js';
import type { VmConfig } from './vm-config.js';
import type { WorkerMessage } from './worker-messages.js';

/** Exit codes of `tsvisor run`. */
export const EXIT = { POWEROFF: 0, ERROR: 1, CRASH: 2, REBOOT: 3 } as const;

export interface RunOutcome {
  code: number;
  /** One line for the user (empty for a clean poweroff). */
  reason: string;
}

export interface ConsoleOptions {
  /** 'stdio': the terminal is the guest's serial console; 'none': output dropped, no input. */
  console: 'stdio' | 'none';
  /** Monitor messages (boot path, sizes); default: none. */
  say?: (line: string) => void;
  /** Opens what a NIC is attached to (user network, tap), resolving once it is usable; needed when the config has NICs. */
  openNetBackend?: (backend: NicBackendConfig) => Promise<NetBackend>;
}

const CTRL_A = 0x01;
/** What Linux prints when it panics; seen on the console, it makes a reset a crash. */
const PANIC_MARK = 'Kernel panic - not syncing';
/** That line once whole (the kernel prints it in pieces). */
const PANIC_LINE = /Kernel panic - not syncing[^\r\n]*(?=\r?\n)/;

/** Each NIC's backend, opened before the guest starts (a tap that cannot be had is a clear error at once). */
async function openBackends(config: VmConfig, opts: ConsoleOptions): Promise<NetBackend[]> {
  const backends: NetBackend[] = [];
  const nics = config.nics ?? [];
  if (nics.length === 0) return backends;
  if (!opts.openNetBackend) throw new VmmError('ENOTSUP', '--net: this monitor has no network backends');
  try {
    for (const nic of nics) backends.push(await opts.openNetBackend(nic.backend));
  } catch (e) {
    await Promise.all(backends.map((b) => b.close()));
    throw e;
  }
  return backends;
}

export async function runVm(config: VmConfig, opts: ConsoleOptions): Promise<RunOutcome> {
  const inputBuffers = createHostInput();
  const input = new HostInputWriter(inputBuffers);
  const backends = await openBackends(config, opts);
  let bridge: VsockUnixBridge | undefined;
  if (config.vsock) {
    bridge = new VsockUnixBridge(config.vsock.cid, config.vsock.path);
    try {
      await bridge.listen();
    } catch (e) {
      await Promise.all(backends.map((b) => b.close()));
      throw e;
    }
  }
  const netRings = backends.map(() => createFrameRing());
  const vsockRing = bridge ? createFrameRing() : undefined;
  let stop: VcpuStopHandle | undefined;
  // Frames for the guest: into the NIC's ring, then one wake-up per burst (doorbell for a halted
  // guest, stop for a running one) once the current callback has queued all it has.
  let wakeQueued = false;
  const wakeVcpu = (): void => {
    wakeQueued = false;
    input.ringDoorbell();
    if (stop) stopVcpu(stop);
  };
  const requestWake = (): void => {
    if (wakeQueued) return;
    wakeQueued = true;
    queueMicrotask(wakeVcpu);
  };
  const ringWriters = netRings.map((r) => new FrameRingWriter(r));
  backends.forEach((backend, i) => {
    const ring = ringWriters[i]!;
    backend.onReceive = (frame) => {
      ring.write(frame);
      requestWake();
    };
  });
  // vsock packets carry byte streams with no retransmission: a full ring holds them back, never drops.
  const vsockWriter = bridge ? new LosslessRingWriter(new FrameRingWriter(vsockRing!), requestWake) : undefined;
  if (bridge) bridge.onPacket = (packet) => vsockWriter!.write(packet);
  const worker = new Worker(new URL('./vcpu-worker.js', import.meta.url), {
    workerData: { config, input: inputBuffers, netRings, vsockRing },
    transferList: [config.kernel.buffer as ArrayBuffer, ...(config.initrd ? [config.initrd.buffer as ArrayBuffer] : [])],
  });
  let tail = '';
  let panic: string | undefined;
  const interactive = opts.console === 'stdio';
  const stdin = process.stdin;
  let escape = false;
  let quitByUser = false;

  const quit = (): void => {
    quitByUser = true;
    input.requestQuit();
    if (stop) stopVcpu(stop);
  };
  const onInput = (chunk: Buffer): void => {
    const bytes: number[] = [];
    for (const b of chunk) {
      if (stdin.isTTY && escape) {
        escape = false;
        if (b === 0x78 /* x */) { quit(); return; }
        if (b !== CTRL_A) bytes.push(CTRL_A);
      } else if (stdin.isTTY && b === CTRL_A) {
        escape = true;
        continue;
      }
      bytes.push(b);
    }
    if (bytes.length === 0) return;
    input.write(Uint8Array.from(bytes));
    if (stop) stopVcpu(stop);
  };
  if (interactive) {
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', onInput);
  }

  try {
    return await new Promise<RunOutcome>((resolve) => {
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'output':
            if (interactive) writeAllSync(1, m.bytes);
            tail = (tail + Buffer.from(m.bytes).toString('latin1')).slice(-4096);
            if (panic === undefined) {
              const line = PANIC_LINE.exec(tail);
              if (line) panic = line[0];
            }
            return;
          case 'say':
            opts.say?.(m.line);
            return;
          case 'stop-handle':
            stop = m.handle;
            return;
          case 'net-tx':
            backends[m.nic]?.send(m.frame);
            return;
          case 'vsock-tx':
            bridge?.receive(m.packet);
            return;
          case 'vsock-reset':
            bridge?.guestReset();
            return;
          case 'error':
            resolve({ code: EXIT.ERROR, reason: m.message });
            return;
          case 'end': {
            const end = m.end;
            if (end.kind === 'quit') resolve({ code: EXIT.POWEROFF, reason: quitByUser ? 'quit (Ctrl-A x)' : 'quit' });
            else if (panic !== undefined || tail.includes(PANIC_MARK)) {
              resolve({ code: EXIT.CRASH, reason: `guest panic: ${panic ?? tail.slice(tail.lastIndexOf(PANIC_MARK)).trim()}` });
            }
            else if (end.kind === 'triple-fault') resolve({ code: EXIT.CRASH, reason: `guest triple fault (shutdown) at rip ${hex(end.rip)}` });
            else if (end.event === 'reset') resolve({ code: EXIT.REBOOT, reason: 'guest reboot' });
            else resolve({ code: EXIT.POWEROFF, reason: '' });
            return;
          }
        }
      });
      worker.on('error', (e) => resolve({ code: EXIT.ERROR, reason: `vCPU thread failed: ${e.message}` }));
      worker.on('exit', (code) => resolve({ code: EXIT.ERROR, reason: `vCPU thread exited (${code}) before the machine ended` }));
    });
  } finally {
    if (interactive) {
      stdin.off('data', onInput);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    }
    await worker.terminate();
    await Promise.all(backends.map((b) => b.close()));
    vsockWriter?.close();
    await bridge?.close();
    ringWriters.forEach((r, i) => { if (r.dropped) opts.say?.(`net${i}: ${r.dropped} frames for the guest dropped at a full frame ring`); });
  }
}
