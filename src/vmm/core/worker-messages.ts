/** What the vCPU thread tells the main thread of `tsvisor run`. */
import type { VcpuStopHandle } from '../../api/types.js';
import type { MachineEnd } from './vcpu-loop.js';

export type WorkerMessage =
  | { type: 'output'; bytes: Uint8Array }
  | { type: 'say'; line: string }
  | { type: 'stop-handle'; handle: VcpuStopHandle }
  /** A frame NIC `nic` sent (its buffer is transferred). */
  | { type: 'net-tx'; nic: number; frame: Uint8Array }
  /** A packet the vsock device sent (buffer transferred), or its driver reset it. */
  | { type: 'vsock-tx'; packet: Uint8Array }
  | { type: 'vsock-reset' }
  | { type: 'end'; end: MachineEnd | { kind: 'quit' } }
  | { type: 'error'; message: string };
