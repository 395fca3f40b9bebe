/**
 * Child process for stop-real.test.ts (a child, so that a backend whose run() never returns shows
 * up as a killed child, not as a hung test run). Backend from argv[2]. On the calc guest (which
 * halts at once): stopVcpu(handle) from this thread, run; again, run; stopVcpu from a worker, run;
 * then run to the halt. Prints the exit reasons and RBX as one JSON line after each step.
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Hypervisor, resetState, stopVcpu } from '../../src/index.js';
import { guestBinary } from '../support.js';

const hv = Hypervisor.open({ backend: process.argv[2] as 'kvm' | 'soft' });
const m = hv.createMachine();
const rom = m.allocate(0x1000);
rom.bytes.set(guestBinary('calc'));
m.map(0xfffff000, rom, { prot: 'rx' });
const cpu = m.createVcpu(0);
cpu.setState(resetState());
cpu.setState({ gprs: { rax: 1n, rbx: 2n, rdx: 0n } });

const steps: string[] = [];
const step = (what: string): void => {
  steps.push(what);
  console.log(JSON.stringify(steps));
};

stopVcpu(cpu.stopHandle());
step(`here:${cpu.run().reason}`);
stopVcpu(cpu.stopHandle());
step(`here-again:${cpu.run().reason}`);

const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.index).then(({ stopVcpu }) => { stopVcpu(workerData.handle); parentPort.postMessage('sent'); });
`;
const index = new URL('../../src/index.js', import.meta.url).href;
const w = new Worker(WORKER, { eval: true, workerData: { handle: cpu.stopHandle(), index } });
await once(w, 'message');
await once(w, 'exit');
step(`worker:${cpu.run().reason}`);
step(`last:${cpu.run().reason}:rbx=${cpu.getState().gprs!.rbx & 0xffffffffn}`);
hv.close();
