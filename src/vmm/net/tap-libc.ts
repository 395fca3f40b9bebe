/**
 * The libc calls the tap backend makes, bound through koffi with fixed prototypes (as the KVM
 * backend does). Loaded separately in the main thread and in the tap reader worker.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const tapSys = {
  open: libc.func('int open(const char *path, int flags)') as (path: string, flags: number) => number,
  close: libc.func('int close(int fd)') as (fd: number) => number,
  ioctlBuf: libc.func('int ioctl(int fd, unsigned long request, void *arg)') as
    (fd: number, request: number, arg: Uint8Array) => number,
  read: libc.func('long read(int fd, void *buf, unsigned long count)') as (fd: number, buf: Uint8Array, count: number) => number,
  write: libc.func('long write(int fd, const void *buf, unsigned long count)') as (fd: number, buf: Uint8Array, count: number) => number,
  poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)') as (fds: Uint8Array, nfds: number, timeout: number) => number,
  eventfd: libc.func('int eventfd(unsigned int initval, int flags)') as (initval: number, flags: number) => number,
  strerror: libc.func('const char *strerror(int errnum)') as (errnum: number) => string,
};

export function lastErrno(): number {
  return koffi.errno();
}

export const O_RDWR = 2, O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000, EFD_CLOEXEC = 0o2000000;
export const POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
export const EINTR = 4, EAGAIN = 11;
/** _IOW('T', 202, int): attach this file descriptor to a tun/tap interface. */
export const TUNSETIFF = 0x400454ca;
export const IFF_TAP = 0x0002, IFF_NO_PI = 0x1000;
export const IFNAMSIZ = 16;
/** struct ifreq is 40 bytes on x86-64: the name, then a union whose first member (short flags) the ioctl reads. */
export const IFREQ_SIZE = 40;
