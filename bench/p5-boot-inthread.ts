/**
 * P5 helper script: the `tsvisor run` boot (runMachine, soft backend, 256 MiB, the default
 * command line) in this thread rather than a worker, counting the guest instructions retired up
 * to each console mark. Prints one JSON line:
 *   {"marks":{"Run /init":{"instructions":N,"cpuS":s,"wallS":s},...},"end":{...},"idleNs":n}
 *
 * Usage: node dist/bench/p5-boot-inthread.js VMLINUZ INITRAMFS   (P5_CONSOLE=1: console to stderr)
 *
 * Instructions: on the soft backend the TSC counts instructions retired, except that a halted
 * guest's TSC is moved forward by the host time waited (time-base.ts, InstructionTimeBase.idle).
 * This script wraps that class's idle() to add up those jumps, and takes
 * instructions = guest time elapsed - time added while idle. The wrap is a measuring probe from
 * outside src/ (the monitor has no instruction counter to ask); it changes no behaviour.
 */
import { readFileSync } from 'node:fs';
import { runMachine } from '../src/vmm/core/machine.js';
import { InstructionTimeBase } from '../src/vmm/core/time-base.js';
import { kernelCmdline } from '../src/vmm/core/vm-config.js';

const P5_MARKS = ['Run /init', 'TSVISOR-GUEST-READY', 'reboot: Power down'] as const;

interface Probe { base: InstructionTimeBase | undefined; idleNs: number }
const probe: Probe = { base: undefined, idleNs: 0 };

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

const instructionsNow = (): number => (probe.base ? probe.base.now() - probe.idleNs : 0);
const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

function main(): void {
  const [kernelPath, initrdPath] = process.argv.slice(2);
  if (!kernelPath || !initrdPath) throw new Error('usage: p5-boot-inthread.js VMLINUZ INITRAMFS');
  const echo = process.env.P5_CONSOLE === '1';
  const t0 = process.hrtime.bigint();
  const wallNow = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const marks: Record<string, { instructions: number; cpuS: number; wallS: number }> = {};
  let tail = '';
  const result = runMachine({
    kernel: new Uint8Array(readFileSync(kernelPath)), initrd: new Uint8Array(readFileSync(initrdPath)),
    cmdline: kernelCmdline(undefined), memBytes: 256 * 2 ** 20, cpus: 1, backend: 'soft', disks: [], rng: false,
  }, {
    serialOutput: (b) => {
      if (echo) process.stderr.write(String.fromCharCode(b));
      tail = (tail + String.fromCharCode(b)).slice(-64);
      for (const m of P5_MARKS) {
        if (!(m in marks) && tail.endsWith(m)) marks[m] = { instructions: instructionsNow(), cpuS: cpuNow(), wallS: wallNow() };
      }
    },
  });
  const end = { instructions: instructionsNow(), cpuS: cpuNow(), wallS: wallNow(), how: result.end ?? { kind: 'quit' } };
  console.log(JSON.stringify({ marks, end, idleNs: probe.idleNs, backend: result.backend },
    (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}

main();
