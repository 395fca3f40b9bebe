/**
 * The libc calls the KVM backend makes, bound once through koffi with fixed, non-variadic
 * prototypes (ioctl is variadic in C; on x86-64 the third argument travels in a register either
 * way, so one prototype per argument kind is exact). Pointers are BigInt addresses (koffi 3).
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

export const sys = {
  open: libc.func('int open(const char *path, int flags)') as (path: string, flags: number) => number,
  close: libc.func('int close(int fd)') as (fd: number) => number,
  /** ioctl whose argument is a plain integer or an address (a native struct we own). */
  ioctl: libc.func('int ioctl(int fd, unsigned long request, unsigned long arg)') as
    (fd: number, request: number, arg: number | bigint) => number,
  /** ioctl whose argument points into JS-owned memory (a typed array koffi pins for the call). */
  ioctlBuf: libc.func('int ioctl(int fd, unsigned long request, void *arg)') as
    (fd: number, request: number, arg: Uint8Array) => number,
  mmap: libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)') as
    (addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number) => bigint,
  munmap: libc.func('int munmap(void *addr, size_t length)') as (addr: bigint, length: number) => number,
  madvise: libc.func('int madvise(void *addr, size_t length, int advice)') as
    (addr: bigint, length: number, advice: number) => number,
  gettid: libc.func('int gettid()') as () => number,
  getpid: libc.func('int getpid()') as () => number,
  tgkill: libc.func('int tgkill(int tgid, int tid, int sig)') as (tgid: number, tid: number, sig: number) => number,
  sigaction: libc.func('int sigaction(int sig, void *act, void *oldact)') as
    (sig: number, act: Uint8Array | null, oldact: Uint8Array | null) => number,
  pthreadSigmask: libc.func('int pthread_sigmask(int how, void *set, void *oldset)') as
    (how: number, set: Uint8Array | null, oldset: Uint8Array | null) => number,
  sigtimedwait: libc.func('int sigtimedwait(void *set, void *info, void *timeout)') as
    (set: Uint8Array, info: Uint8Array | null, timeout: Uint8Array) => number,
  strerror: libc.func('const char *strerror(int errnum)') as (errnum: number) => string,
};

/** Address of a libc function, e.g. for a signal handler that must do nothing. */
export function libcSymbol(name: string): bigint {
  return libc.symbol(name) as bigint;
}

export function errno(): number {
  return koffi.errno();
}

/** A view of native memory at addr (no copy): the guest RAM and kvm_run go through these. */
export function nativeView(addr: bigint, length: number): Uint8Array {
  return new Uint8Array(koffi.view(addr, length));
}

export const PROT_READ = 1, PROT_WRITE = 2;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
export const MAP_FAILED = 0xffffffffffffffffn;
export const MADV_DONTNEED = 4;
export const O_RDWR = 2, O_CLOEXEC = 0o2000000;
export const SIG_BLOCK = 0, SIG_UNBLOCK = 1;
export const EINTR = 4, EAGAIN = 11;
