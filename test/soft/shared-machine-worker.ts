/**
 * One vCPU of a shared soft machine in its own thread (test/soft/shared-machine.test.ts): attaches
 * to the machine, creates its vCPU, sets the state it was given, tells the parent it is ready,
 * waits for the go word, runs to HLT and reports the exit, RBX and the TSC before and after.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Hypervisor, State, type MachineShare, type VcpuStateInput } from '../../src/index.js';

const { share, id, state, go } = workerData as { share: MachineShare; id: number; state: VcpuStateInput; go: SharedArrayBuffer };
const hv = Hypervisor.open({ backend: 'soft' });
try {
  const m = hv.attachMachine(share);
  const cpu = m.createVcpu(id);
  cpu.setState(state);
  parentPort!.postMessage({ type: 'ready', stop: cpu.stopHandle() });
  Atomics.wait(new Int32Array(go), 0, 0);
  const tscBefore = cpu.getState(State.MSRS).msrs!.tsc;
  const exit = cpu.run();
  const st = cpu.getState(State.GPRS | State.MSRS);
  parentPort!.postMessage({ type: 'done', reason: exit.reason, rbx: st.gprs!.rbx, tscBefore, tscAfter: st.msrs!.tsc });
  m.destroy();
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: (e as Error).message });
} finally {
  hv.close();
}
