/**
 * P5 helper script: the `tsvisor run` boot (runMachine, soft backend, 256 MiB, the default
 * command line) in this thread rather than a worker, counting the guest instructions retired up
 * to each console mark. Prints one JSON line:
 *   {"startup":{"cpuS":s,"wallS":s},"marks":{"Run /init":{"instructions":N,"cpuS":s,"threadCpuS":s,"wallS":s},...},"end":{...},
 *    "idleNs":n,"exits":{reason:n}}
 * (startup: when the machine is built and the kernel loaded, just before the first instruction.)
 *
 * Usage: node dist/bench/p5-boot-inthread.js VMLINUZ INITRAMFS   (P5_CONSOLE=1: console to stderr)
 * P5_APPEND=S: boot with command line S (as `tsvisor run --append S`), for experiments.
 *
 * P5_RIP_SAMPLES=FILE: a guest profile as well. A sampler thread stops the vCPU every
 * P5_SAMPLE_MS (default 1) host ms, and each 'stopped' exit (these and the deadline timer's)
 * records the guest RIP, split at `Run /init`; FILE gets {"toInit":{rip:count},"afterInit":{...}}
 * for bench/p5-guest-symbols.ts. The soft CPU notices a stop only between run slices (65536
 * instructions), so a sample is the RIP where the slice under way ended: slices are picked in
 * proportion to their host time, but within a slice the sample falls by instruction count, so
 * fast code mixed with slow code in the same slices gets more than its share (in the Linux boot
 * the crypto self-tests' bignum loops, 0.77 G instructions run in compiled blocks at 640+ MIPS,
 * hold 40% of the samples, though at their speed in isolation they take 1-2 s). Read it at that
 * granularity; a CPU profile (--cpu-prof) says where host time goes. The stops make the boot a
 * little slower.
 *
 * P5_TIERS=FILE: how the instructions split between the soft CPU's tiers (bench/p5-tiers.ts): FILE
 * gets {"toInit":{...},"end":{...}} (counts only: the probe slows the boot).
 *
 * Instructions: on the soft backend the TSC counts instructions retired, except that a halted
 * guest's TSC is moved forward by the host time waited (time-base.ts, InstructionTimeBase.idle).
 * This script wraps that class's idle() to add up those jumps, and takes
 * instructions = guest time elapsed - time added while idle. The wrap is a measuring probe from
 * outside src/ (the monitor has no instruction counter to ask); it changes no behaviour. The
 * vCPU loop's exit handler is wrapped the same way to count the exits by reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { runMachine } from '../src/vmm/core/machine.js';
import { InstructionTimeBase } from '../src/vmm/core/time-base.js';
import { VcpuLoop } from '../src/vmm/core/vcpu-loop.js';
import { State, type VcpuStopHandle, type VmExit } from '../src/api/types.js';
import { kernelCmdline } from '../src/vmm/core/vm-config.js';
import { installTierProbe, type TierCounts } from './p5-tiers.js';

const P5_MARKS = ['Run /init', 'TSVISOR-GUEST-READY', 'reboot: Power down'] as const;

interface Probe {
  base: InstructionTimeBase | undefined; idleNs: number; exits: Record<string, number>;
  /** Guest RIP samples (hex: count) before and after `Run /init`; undefined: not sampling. */
  rips: { toInit: Record<string, number>; afterInit: Record<string, number> } | undefined;
  pastInit: boolean;
}
const SAMPLES_FILE = process.env.P5_RIP_SAMPLES;
const TIERS_FILE = process.env.P5_TIERS;
const tiers = TIERS_FILE ? installTierProbe() : undefined;
let tiersAtInit: TierCounts | undefined;
const probe: Probe = { base: undefined, idleNs: 0, exits: {}, rips: SAMPLES_FILE ? { toInit: {}, afterInit: {} } : undefined, pastInit: false };

const proto = InstructionTimeBase.prototype;
const afterExit = proto.afterExit;
const idle = proto.idle;
proto.afterExit = function (this: InstructionTimeBase): void {
  probe.base = this;
  afterExit.call(this);
};
proto.idle = function (this: InstructionTimeBase, deviceNs: number, wait: (ms: number) => void): void {
  const before = this.now();
  idle.call(this, deviceNs, wait);
  probe.idleNs += this.now() - before;
};

// The exits by reason (how often the vCPU loop ran devices and the deadline timer between runs).
const loop = VcpuLoop.prototype;
const handle = loop['handle'];
loop['handle'] = function (this: VcpuLoop, exit: VmExit, deadline: number) {
  probe.exits[exit.reason] = (probe.exits[exit.reason] ?? 0) + 1;
  if (probe.rips && exit.reason === 'stopped') {
    const rip = this['cpu'].getState(State.GPRS).gprs!.rip.toString(16);
    const into = probe.pastInit ? probe.rips.afterInit : probe.rips.toInit;
    into[rip] = (into[rip] ?? 0) + 1;
  }
  return handle.call(this, exit, deadline);
};

/** The sampler thread: stops the vCPU every `ms` until told to quit (an eval'd CommonJS worker). */
function startSampler(stop: VcpuStopHandle, ms: number): { quit: () => Promise<number> } {
  const quit = new Int32Array(new SharedArrayBuffer(4));
  const frontend = new URL('../src/frontend/index.js', import.meta.url).href;
  const worker = new Worker(`
    const { workerData: w } = require('node:worker_threads');
    import(w.frontend).then(({ stopVcpu }) => {
      const nap = new Int32Array(new SharedArrayBuffer(4));
      while (Atomics.load(w.quit, 0) === 0) { Atomics.wait(nap, 0, 0, w.ms); stopVcpu(w.stop); }
    });`, { eval: true, workerData: { stop, ms, quit, frontend } });
  worker.unref();
  return { quit: () => { Atomics.store(quit, 0, 1); return worker.terminate(); } };
}

const instructionsNow = (): number => (probe.base ? probe.base.now() - probe.idleNs : 0);
const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
/**
 * This thread's CPU (the vCPU's: the boot runs here), without V8's compiler and GC helper threads,
 * from /proc/thread-self/stat (utime + stime, in 1/100 s); undefined where there is none.
 */
function threadCpuNow(): number | undefined {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'latin1');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function main(): void {
  const [kernelPath, initrdPath] = process.argv.slice(2);
  if (!kernelPath || !initrdPath) throw new Error('usage: p5-boot-inthread.js VMLINUZ INITRAMFS');
  const echo = process.env.P5_CONSOLE === '1';
  const t0 = process.hrtime.bigint();
  const wallNow = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const marks: Record<string, { instructions: number; cpuS: number; threadCpuS: number | undefined; wallS: number }> = {};
  let tail = '';
  let sampler: ReturnType<typeof startSampler> | undefined;
  let startup: { cpuS: number; wallS: number } | undefined;
  const result = runMachine({
    kernel: new Uint8Array(readFileSync(kernelPath)), initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: kernelCmdline(process.env.P5_APPEND || undefined), memBytes: 256 * 2 ** 20, cpus: 1, backend: 'soft', disks: [], rng: false,
  }, {
    serialOutput: (b) => {
      if (echo) process.stderr.write(String.fromCharCode(b));
      tail = (tail + String.fromCharCode(b)).slice(-64);
      for (const m of P5_MARKS) {
        if (!(m in marks) && tail.endsWith(m)) marks[m] = { instructions: instructionsNow(), cpuS: cpuNow(), threadCpuS: threadCpuNow(), wallS: wallNow() };
      }
      if (tail.endsWith('Run /init')) {
        probe.pastInit = true;
        tiersAtInit ??= tiers?.snapshot();
      }
    },
    onPlatform: (_platform, stop) => {
      // The machine is built and the kernel loaded: what start-up cost, up to the first instruction.
      startup = { cpuS: cpuNow(), wallS: wallNow() };
      if (probe.rips) sampler = startSampler(stop, Number(process.env.P5_SAMPLE_MS ?? 1));
    },
  });
  void sampler?.quit();
  if (SAMPLES_FILE) writeFileSync(SAMPLES_FILE, JSON.stringify(probe.rips));
  if (TIERS_FILE && tiers) writeFileSync(TIERS_FILE, JSON.stringify({ toInit: tiersAtInit, end: tiers.snapshot() }));
  const end = { instructions: instructionsNow(), cpuS: cpuNow(), wallS: wallNow(), how: result.end ?? { kind: 'quit' } };
  console.log(JSON.stringify({ startup, marks, end, idleNs: probe.idleNs, exits: probe.exits, backend: result.backend },
    (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}

main();
