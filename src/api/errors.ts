/** Error codes follow errno names, as libnvmm does, so callers can switch on them. */
export type VmmErrorCode =
  | 'EINVAL' | 'EEXIST' | 'ENOENT' | 'ENOBUFS' | 'EFAULT' | 'EPERM' | 'ENODEV'
  | 'ENOMEM' | 'EBUSY' | 'ENOTSUP' | 'EIO' | 'E2BIG' | 'EISDIR' | 'EFBIG' | 'EACCES';

/** Every misuse of the API and every unsupported request raises this, never a bare Error. */
export class VmmError extends Error {
  readonly code: VmmErrorCode;
  constructor(code: VmmErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'VmmError';
    this.code = code;
  }
}

/** Formats a guest/host address for messages: hex, never exponent notation. */
export function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}
