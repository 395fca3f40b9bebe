/**
 * What the stack saw and what it threw away, by reason: malformed or unsupported frames from the
 * guest are dropped and counted here, never thrown out of send().
 */
export const DROP_REASONS = [
  'ethernet-short', 'ethernet-type', 'ethernet-not-for-us',
  'arp-malformed', 'arp-unsupported',
  'ipv4-malformed', 'ipv4-checksum', 'ipv4-options', 'ipv4-not-for-us', 'ipv4-source', 'ipv4-protocol',
  'fragment-malformed', 'fragment-overlap', 'fragment-too-big', 'fragment-table-full', 'fragment-timeout',
  'icmp-malformed', 'icmp-unsupported',
  'udp-malformed', 'udp-checksum', 'udp-refused', 'udp-flow-table-full',
  'dhcp-malformed', 'dhcp-unsupported',
  'dns-malformed',
  'tcp-malformed', 'tcp-checksum', 'tcp-refused', 'tcp-table-full',
  'send-after-close', 'arp-queue-full', 'internal-error',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export class NetCounters {
  framesFromGuest = 0;
  framesToGuest = 0;
  readonly dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  totalDropped(): number {
    let n = 0;
    for (const r of DROP_REASONS) n += this.dropped[r];
    return n;
  }
}
