/** Turns a failed KVM/libc call into a VmmError that names the call and the errno. */
import { VmmError } from '../../api/errors.js';
import type { VmmErrorCode } from '../../api/errors.js';
import { errno, sys } from './libc.js';

const ERRNO_CODES: Record<number, VmmErrorCode> = {
  1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 12: 'ENOMEM', 13: 'EPERM', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST',
  19: 'ENODEV', 22: 'EINVAL', 7: 'E2BIG', 95: 'ENOTSUP', 105: 'ENOBUFS', 6: 'ENODEV',
};

export function kvmError(what: string, err: number = errno()): VmmError {
  const code = ERRNO_CODES[err] ?? 'EIO';
  return new VmmError(code, `kvm: ${what} failed: ${sys.strerror(err)} (errno ${err})`);
}

/** Runs an ioctl-like call and throws kvmError when it returns a negative value. */
export function check(what: string, rc: number): number {
  if (rc < 0) throw kvmError(what);
  return rc;
}
