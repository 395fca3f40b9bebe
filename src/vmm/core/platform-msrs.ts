/**
 * MSRs the platform answers when the CPU backend leaves them to the monitor (rdmsr/wrmsr exits),
 * as data: the value a read returns and what a write may change. Anything else is #GP, as on a
 * CPU without that MSR (kernels probe optional MSRs with the safe accessors).
 */
export interface MsrBehaviour {
  /** The value; writes change it within writable. */
  value: bigint;
  /** Bits a write may change; a write touching others is #GP. */
  writable: bigint;
}

/**
 * IA32_MISC_ENABLE (0x1a0): Linux's verify_cpu reads it unguarded on Intel family 6, so a CPU
 * model claiming to be one must have it. Fast strings on, BTS and PEBS unavailable (QEMU's default);
 * fast strings and the XD-disable bit (34, kept 0) are what kernels write.
 */
const IA32_MISC_ENABLE = 0x1a0;
const MISC_ENABLE_FAST_STRING = 1n, MISC_ENABLE_BTS_UNAVAIL = 1n << 11n, MISC_ENABLE_PEBS_UNAVAIL = 1n << 12n;

export function platformMsrs(): Map<number, MsrBehaviour> {
  return new Map([
    [IA32_MISC_ENABLE, { value: MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL, writable: MISC_ENABLE_FAST_STRING | (1n << 34n) }],
  ]);
}
