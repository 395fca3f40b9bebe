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

/**
 * Calls ioctl(fd, request, arg), again while it fails with EINTR: a signal the process handles
 * (a profiler's SIGPROF, say) can interrupt slow calls such as KVM_CREATE_VM. Not for KVM_RUN,
 * whose EINTR means "stop requested".
 */
export function ioctlRetry(fd: number, request: number, arg: number | bigint): number {
  for (;;) {
    const rc = sys.ioctl(fd, request, arg);
    if (rc >= 0 || errno() !== 4 /* EINTR */) return rc;
  }
}
