/** What the vCPU thread tells the main thread of `tsvisor run`. */
import type { VcpuStopHandle } from '../../api/types.js';
import type { MachineEnd } from './vcpu-loop.js';

export type WorkerMessage =
  | { type: 'output'; bytes: Uint8Array }
  | { type: 'say'; line: string }
  | { type: 'stop-handle'; handle: VcpuStopHandle }
  | { type: 'end'; end: MachineEnd | { kind: 'quit' } }
  | { type: 'error'; message: string };
