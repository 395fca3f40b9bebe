/** The user network's internal limits and timers; tests shorten the timers and point DNS at their own server. */
import type { TcpTuning } from './tcp/connection.js';
import type { ResolverAddress } from './dns.js';

export interface UserNetTuning {
  /** Where DNS queries to 10.0.2.3 go; by default the first nameserver of /etc/resolv.conf. */
  resolver: ResolverAddress | undefined;
  /** The address the gateway 10.0.2.2 stands for. */
  hostLoopback: string;
  tcp: TcpTuning;
  maxTcpConnections: number;
  maxUdpFlows: number;
  udpIdleMs: number;
  maxFragmentedDatagrams: number;
  fragmentTimeoutMs: number;
}

export function defaultTuning(): UserNetTuning {
  return {
    resolver: undefined,
    hostLoopback: '127.0.0.1',
    tcp: {
      rto: { initialMs: 1000, minMs: 200, maxMs: 60_000 },
      sendBuffer: 256 * 1024,
      receiveBuffer: 256 * 1024,
      timeWaitMs: 4000,
      maxRetries: 12,
    },
    maxTcpConnections: 1024,
    maxUdpFlows: 256,
    udpIdleMs: 60_000,
    maxFragmentedDatagrams: 16,
    fragmentTimeoutMs: 30_000,
  };
}
