/**
 * A minimal Linux user-mode host for the SSE tests: a static x86-64 ELF runs at CPL3 on a soft
 * vCPU (identity-mapped RAM), and its SYSCALLs reach this file through a two-instruction kernel
 * stub (OUT to port 0xe0, SYSRETQ), where the few system calls a static glibc program makes are
 * answered (write, brk, mmap of anonymous memory, arch_prctl, uname, ...). Any other call fails
 * the run with its number: nothing is silently ignored.
 */
import { gunzipSync } from 'node:zlib';
import { State } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { softVm } from '../soft/vm.js';

const RAM = 64 * 2 ** 20;
const STUB = 0x1000, STACK_TOP = 0x3e00000, TABLES = RAM - 0x10000;
const MMAP_BASE = 0x1000000, MMAP_END = 0x3000000;
const SYSCALL_PORT = 0xe0;

export interface UserRun { stdout: string; exitCode: number; syscalls: Map<string, number>; instructions: number }

/** The file named path inside a gzip'd newc cpio archive, or undefined. */
export function cpioFile(gz: Uint8Array, path: string): Uint8Array | undefined {
  const a = gunzipSync(gz);
  let off = 0;
  const field = (k: number) => parseInt(a.subarray(off + 6 + 8 * k, off + 14 + 8 * k).toString(), 16);
  while (off + 110 <= a.length && a.subarray(off, off + 6).toString() === '070701') {
    const size = field(6), nameSize = field(11);
    const name = a.subarray(off + 110, off + 110 + nameSize - 1).toString();
    const dataAt = (off + 110 + nameSize + 3) & ~3;
    if (name === path) return new Uint8Array(a.subarray(dataAt, dataAt + size));
    if (name === 'TRAILER!!!') break;
    off = (dataAt + size + 3) & ~3;
  }
  return undefined;
}

const ERRNO = { ENOENT: 2, EBADF: 9, ENOMEM: 12, EINVAL: 22, ENOTTY: 25, ENOSYS: 38 };

export function runStatic(elf: Uint8Array, argv: string[], stdin = '', maxSyscalls = 5000): UserRun {
  const vm = softVm(RAM);
  const ram = vm.ram;
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (dv.getUint32(0) !== 0x7f454c46 || dv.getUint16(18, true) !== 62 || dv.getUint16(16, true) !== 2) {
    throw new Error('not a static x86-64 executable (ET_EXEC)');
  }
  const entry = Number(dv.getBigUint64(24, true)), phoff = Number(dv.getBigUint64(32, true));
  const phnum = dv.getUint16(56, true);
  let end = 0, phdr = 0;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + 56 * i;
    const type = dv.getUint32(p, true), off = Number(dv.getBigUint64(p + 8, true)), va = Number(dv.getBigUint64(p + 16, true));
    const fsz = Number(dv.getBigUint64(p + 32, true)), msz = Number(dv.getBigUint64(p + 40, true));
    if (type === 1) {
      if (va + msz > MMAP_BASE) throw new Error(`segment at 0x${va.toString(16)} overlaps the mmap area`);
      ram.set(elf.subarray(off, off + fsz), va);
      ram.fill(0, va + fsz, va + msz);
      end = Math.max(end, va + msz);
      if (off === 0) phdr = va + phoff;
    }
  }
  let brk = (end + 0xfff) & ~0xfff;
  const brkStart = brk;
  let mmapNext = MMAP_BASE;

  // The initial stack: argc, argv, NULL, envp (empty), NULL, auxv, then the strings.
  const strings: number[] = [];
  let sp = STACK_TOP;
  const putBytes = (b: Uint8Array): number => { sp -= b.length; ram.set(b, sp); return sp; };
  for (const s of [...argv].reverse()) strings.unshift(putBytes(Buffer.from(`${s}\0`)));
  const platform = putBytes(Buffer.from('x86_64\0'));
  const random = putBytes(Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff));
  const auxv: [number, number][] = [[3, phdr], [4, 56], [5, phnum], [6, 4096], [9, entry], [11, 0], [12, 0], [13, 0], [14, 0],
    [15, platform], [23, 0], [25, random], [31, strings[0]!], [0, 0]];
  const words = [argv.length, ...strings, 0, 0, ...auxv.flat()];
  sp = (sp - words.length * 8) & ~15;
  const st = new DataView(ram.buffer, ram.byteOffset);
  words.forEach((w, i) => st.setBigUint64(sp + 8 * i, BigInt(w), true));

  ram.set([0xe6, SYSCALL_PORT, 0x48, 0x0f, 0x07], STUB); // out 0xe0, al; sysretq
  const state = longModeState({ ram, ramGpa: 0, tablesGpa: TABLES, mapBytes: RAM }, { entry, stack: sp, cpl: 3, kernelStack: STACK_TOP + 0x10000 });
  state.msrs = { ...state.msrs!, lstar: BigInt(STUB), sfmask: 0n };
  vm.cpu.setState(state);

  let stdout = '';
  const input = Buffer.from(stdin);
  let inputAt = 0;
  const syscalls = new Map<string, number>();
  const mem = (a: bigint) => Number(a);
  const cstr = (a: number) => { let e = a; while (ram[e] !== 0) e++; return Buffer.from(ram.subarray(a, e)).toString(); };
  try {
    for (let n = 0; n < maxSyscalls; n++) {
      const exit = vm.cpu.run();
      if (exit.reason !== 'io' || exit.port !== SYSCALL_PORT) {
        throw new Error(`unexpected exit ${exit.reason}${exit.reason === 'invalid' ? `: ${exit.detail}` : ''} at rip 0x${vm.cpu.getState(State.GPRS).gprs!.rip.toString(16)} (stdout so far: ${JSON.stringify(stdout)})`);
      }
      const g = vm.cpu.getState(State.GPRS).gprs!;
      const nr = Number(g.rax), a0 = g.rdi, a1 = g.rsi, a2 = g.rdx;
      let ret: number | bigint;
      const name = SYSCALL_NAMES[nr] ?? `#${nr}`;
      syscalls.set(name, (syscalls.get(name) ?? 0) + 1);
      switch (nr) {
        case 1: { // write
          const b = ram.subarray(mem(a1), mem(a1) + Number(a2));
          if (a0 === 1n || a0 === 2n) { if (a0 === 1n) stdout += Buffer.from(b).toString(); ret = b.length; } else ret = -ERRNO.EBADF;
          break;
        }
        case 0: { // read: stdin only
          if (a0 !== 0n) { ret = -ERRNO.EBADF; break; }
          const n = Math.min(Number(a2), input.length - inputAt);
          ram.set(input.subarray(inputAt, inputAt + n), mem(a1));
          inputAt += n;
          ret = n;
          break;
        }
        case 5: case 262: { // fstat, newfstatat(fd, "", buf, AT_EMPTY_PATH): the standard streams are pipes
          const fd = Number(a0), buf = mem(nr === 5 ? a1 : a2);
          if (fd > 2 || (nr === 262 && ram[mem(a1)] !== 0)) { ret = -ERRNO.ENOENT; break; }
          ram.fill(0, buf, buf + 144);
          st.setUint32(buf + 24, 0o10600, true); // st_mode: S_IFIFO | 0600
          st.setBigUint64(buf + 56, 4096n, true); // st_blksize
          ret = 0;
          break;
        }
        case 99: { // sysinfo: 64 MiB of RAM, half free
          const b = mem(a0);
          ram.fill(0, b, b + 112);
          st.setBigUint64(b + 32, BigInt(RAM), true);
          st.setBigUint64(b + 40, BigInt(RAM / 2), true);
          st.setUint16(b + 80, 1, true);
          st.setUint32(b + 104, 1, true);
          ret = 0;
          break;
        }
        case 72: ret = Number(a1) === 3 ? 2 : 0; break; // fcntl: F_GETFL -> O_RDWR, others succeed
        case 20: { // writev
          let total = 0;
          for (let i = 0; i < Number(a2); i++) {
            const base = Number(st.getBigUint64(mem(a1) + 16 * i, true)), len = Number(st.getBigUint64(mem(a1) + 16 * i + 8, true));
            if (a0 === 1n) stdout += Buffer.from(ram.subarray(base, base + len)).toString();
            total += len;
          }
          ret = total;
          break;
        }
        case 12: // brk
          if (a0 >= BigInt(brkStart) && a0 < BigInt(MMAP_BASE)) { ram.fill(0, brk, Math.max(brk, mem(a0))); brk = mem(a0); }
          ret = brk;
          break;
        case 9: { // mmap: anonymous private only
          const len = (Number(a1) + 0xfff) & ~0xfff;
          const flags = Number(g.r10);
          if (!(flags & 0x20) || mmapNext + len > MMAP_END) { ret = -ERRNO.ENOMEM; break; }
          ret = mmapNext;
          ram.fill(0, mmapNext, mmapNext + len);
          mmapNext += len;
          break;
        }
        case 11: case 10: case 28: ret = 0; break; // munmap, mprotect, madvise: memory stays mapped
        case 158: { // arch_prctl
          if (a0 === 0x1002n) {
            const segs = vm.cpu.getState(State.SEGS).segs!;
            vm.cpu.setState({ segs: { ...segs, fs: { ...segs.fs, base: a1 } } }, State.SEGS);
            ret = 0;
          } else ret = -ERRNO.EINVAL;
          break;
        }
        case 157: ret = 0; break; // prctl (busybox names its process)
        case 218: ret = 1; break; // set_tid_address
        case 273: ret = 0; break; // set_robust_list
        case 334: ret = -ERRNO.ENOSYS; break; // rseq
        case 302: ret = -ERRNO.ENOSYS; break; // prlimit64
        case 13: case 14: ret = 0; break; // rt_sigaction, rt_sigprocmask
        case 16: ret = -ERRNO.ENOTTY; break; // ioctl
        case 39: case 110: ret = 1; break; // getpid, getppid
        case 102: case 104: case 107: case 108: ret = 0; break; // getuid getgid geteuid getegid
        case 89: case 267: ret = -ERRNO.ENOENT; break; // readlink, readlinkat
        case 318: { // getrandom
          for (let i = 0; i < Number(a1); i++) ram[mem(a0) + i] = (i * 73 + 5) & 0xff;
          ret = Number(a1);
          break;
        }
        case 63: { // uname: six 65-byte fields
          ram.fill(0, mem(a0), mem(a0) + 6 * 65);
          ['Linux', 'tsvisor', '6.1.0', '#1', 'x86_64', ''].forEach((s, i) => ram.set(Buffer.from(s), mem(a0) + 65 * i));
          ret = 0;
          break;
        }
        case 60: case 231: // exit, exit_group
          return { stdout, exitCode: Number(a0 & 0xffn), syscalls, instructions: 0 };
        default:
          throw new Error(`system call ${nr} (${name}) is not answered by this test host (args 0x${a0.toString(16)}, 0x${a1.toString(16)}; stdout so far: ${JSON.stringify(stdout)}; path? ${a0 > 0x400000n && a0 < BigInt(RAM) ? cstr(mem(a0)) : '-'})`);
      }
      vm.cpu.setState({ gprs: { ...g, rax: BigInt.asUintN(64, BigInt(ret)), rip: g.rip + 2n } }, State.GPRS);
    }
    throw new Error(`no exit after ${maxSyscalls} system calls`);
  } finally {
    vm.hv.close();
  }
}

const SYSCALL_NAMES: Record<number, string> = {
  0: 'read', 1: 'write', 5: 'fstat', 72: 'fcntl', 99: 'sysinfo', 262: 'newfstatat', 9: 'mmap', 10: 'mprotect', 11: 'munmap', 12: 'brk', 13: 'rt_sigaction', 14: 'rt_sigprocmask', 16: 'ioctl',
  20: 'writev', 28: 'madvise', 39: 'getpid', 60: 'exit', 63: 'uname', 89: 'readlink', 102: 'getuid', 104: 'getgid',
  107: 'geteuid', 108: 'getegid', 110: 'getppid', 157: 'prctl', 158: 'arch_prctl', 218: 'set_tid_address', 231: 'exit_group',
  267: 'readlinkat', 273: 'set_robust_list', 302: 'prlimit64', 318: 'getrandom', 334: 'rseq',
};
