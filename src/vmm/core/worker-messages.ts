/** What the vCPU thread tells the main thread of `tsvisor run`. */
import type { VcpuStopHandle } from '../../api/types.js';
import type { MachineEnd } from './vcpu-loop.js';

export type WorkerMessage =
  | { type: 'output'; bytes: Uint8Array }
  | { type: 'say'; line: string }
  | { type: 'stop-handle'; handle: VcpuStopHandle }
  /** A frame NIC `nic` sent (its buffer is transferred). */
  | { type: 'net-tx'; nic: number; frame: Uint8Array }
  | { type: 'end'; end: MachineEnd | { kind: 'quit' } }
  | { type: 'error'; message: string };
