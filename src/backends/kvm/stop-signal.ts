/**
 * stop() from another thread. The vCPU's thread keeps STOP_SIGNAL blocked except inside KVM_RUN
 * (KVM_SET_SIGNAL_MASK gives KVM the mask to use while in the guest). A stopper sets the shared
 * stop flag, then tgkill()s the thread that runs the vCPU: inside KVM_RUN the signal makes the
 * ioctl fail with EINTR at once; outside it the signal stays pending and the next KVM_RUN returns
 * EINTR as soon as it starts, so no window exists where the request is lost. run() turns EINTR
 * into { reason: 'stopped' } when the flag is set and simply re-enters otherwise.
 * KVM restores the thread's mask before returning, so the signal is never delivered: it stays
 * pending (and would fail every later KVM_RUN) until consumeStopSignals() takes it with
 * sigtimedwait, as QEMU does for its IPI signal.
 *
 * Why no stop is lost (test/conformance/stop-stress.test.ts aims stops at every point of run()): the
 * flag is the request, the signal only a kick. run() reads the flag before every KVM_RUN and
 * consumes signals only after a KVM_RUN that returned EINTR, before reading the flag again, so a
 * consumed signal always leaves its flag to be seen. A stop landing after the flag check finds
 * the signal blocked and pending, and KVM_RUN returns EINTR at entry. The stopper stores the
 * flag before it reads the thread id, the runner stores the thread id before it reads the flag
 * (sequentially consistent Atomics): either the stopper signals the thread, or the runner sees
 * the flag. Stops while a run() is ending coalesce into that run's 'stopped'.
 *
 * The handler must exist (an ignored signal would not interrupt KVM_RUN) and must do nothing.
 * It cannot be JavaScript (a signal handler runs on any stack at any moment), so it is a libc
 * function that ignores its argument and has no effect: getpid. It is installed process-wide,
 * once, for a real-time signal nothing else in Node uses.
 */
import { VmmError } from '../../api/errors.js';
import { SIG_BLOCK, libcSymbol, sys } from './libc.js';

/** SIGRTMAX - 4 (glibc: SIGRTMIN = 34, SIGRTMAX = 64; the lowest ones are taken by NPTL). */
export const STOP_SIGNAL = 60;

/** glibc struct sigaction on x86-64: handler @0, sa_mask (128 bytes) @8, sa_flags @136, restorer @144. */
const SIGACTION_SIZE = 152, SIGACTION_FLAGS = 136;
const SIGSET_SIZE = 128;

function sigset(sig: number): Uint8Array {
  const set = new Uint8Array(SIGSET_SIZE);
  set[(sig - 1) >> 3]! |= 1 << ((sig - 1) & 7);
  return set;
}

let handlerInstalled = false;
/** Per JS thread (module state is per thread): the thread id and its signal mask outside KVM_RUN. */
let threadTid = 0;
let threadRunMask: Uint8Array | undefined;

function installHandler(): void {
  if (handlerInstalled) return;
  const handler = libcSymbol('getpid');
  const old = new Uint8Array(SIGACTION_SIZE);
  if (sys.sigaction(STOP_SIGNAL, null, old) !== 0) throw new VmmError('EIO', `kvm: sigaction(${STOP_SIGNAL}) query failed`);
  const oldHandler = new DataView(old.buffer).getBigUint64(0, true);
  if (oldHandler !== 0n && oldHandler !== handler) {
    throw new VmmError('EBUSY', `kvm: signal ${STOP_SIGNAL} (used to stop vCPUs) already has another handler`);
  }
  const act = new Uint8Array(SIGACTION_SIZE);
  const v = new DataView(act.buffer);
  v.setBigUint64(0, handler, true);
  v.setInt32(SIGACTION_FLAGS, 0, true); // no SA_RESTART: KVM_RUN must come back with EINTR
  if (sys.sigaction(STOP_SIGNAL, act, null) !== 0) throw new VmmError('EIO', `kvm: sigaction(${STOP_SIGNAL}) failed`);
  handlerInstalled = true;
}

/** This thread's id once prepareThread() ran in it, else 0 (a cheap "already prepared" test). */
export function preparedThreadTid(): number {
  return threadTid;
}

/**
 * Prepares the calling thread to run vCPUs: handler installed, STOP_SIGNAL blocked here.
 * Returns the thread id and the 8-byte kernel sigset KVM should use while in the guest
 * (this thread's previous mask, without STOP_SIGNAL).
 */
export function prepareThread(): { tid: number; runMask: Uint8Array } {
  if (threadRunMask) return { tid: threadTid, runMask: threadRunMask };
  installHandler();
  const old = new Uint8Array(SIGSET_SIZE);
  if (sys.pthreadSigmask(SIG_BLOCK, sigset(STOP_SIGNAL), old) !== 0) throw new VmmError('EIO', 'kvm: pthread_sigmask failed');
  const runMask = old.slice(0, 8);
  runMask[(STOP_SIGNAL - 1) >> 3]! &= ~(1 << ((STOP_SIGNAL - 1) & 7));
  threadTid = sys.gettid();
  threadRunMask = runMask;
  return { tid: threadTid, runMask };
}

const STOP_SET = sigset(STOP_SIGNAL);
const ZERO_TIMEOUT = new Uint8Array(16);

/** Takes every pending STOP_SIGNAL of this thread (after KVM_RUN returned EINTR). */
export function consumeStopSignals(): void {
  while (sys.sigtimedwait(STOP_SET, null, ZERO_TIMEOUT) === STOP_SIGNAL) { /* taken */ }
}

/** Layout of the SharedArrayBuffer behind a vCPU's stop handle (Int32 slots). */
export const STOP_FLAG = 0, STOP_TID = 1, STOP_ALIVE = 2, STOP_SLOTS = 3;

/** Called by any thread holding the handle's data. */
export function signalStop(shared: Int32Array, pid: number): void {
  Atomics.store(shared, STOP_FLAG, 1);
  const tid = Atomics.load(shared, STOP_TID);
  if (tid !== 0 && Atomics.load(shared, STOP_ALIVE) === 1) {
    // ESRCH (thread gone) is fine: the flag alone stops the next run().
    sys.tgkill(pid, tid, STOP_SIGNAL);
  }
}
