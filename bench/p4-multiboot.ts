/**
 * P4 helper: the multiboot form of the compute loop (guests/soft-bench-mb.S) for emulators that
 * boot a multiboot kernel directly (v86, bench/p4-v86.ts) and for the soft backend, which this
 * module loads the way a multiboot loader does: the image at its load address (header address
 * fields, flags bit 16), flat 32-bit protected mode, EAX = the loader magic, paging off.
 * The guest writes its checksum to COM1 (port 0x3f8), four bytes low first, and halts.
 */
import { Hypervisor, State } from '../src/index.js';
import { flat32State } from '../src/x86/boot-state.js';
import { guestWithCount } from './guest-count.js';

export interface LoopRun { instructions: number; cpuS: number; wallS: number; checksum: number }

const MB_MAGIC = 0x1badb002, MB_FLAG_ADDRESS = 1 << 16, MB_LOADER_MAGIC = 0x2badb002;
export const COM1 = 0x3f8;

/** The multiboot image with its loop count patched (the imm32 after B9 at label count). */
export function multibootImage(iterations: number): Uint8Array {
  return guestWithCount('soft-bench-mb', [0xb9], 1_000_000, iterations);
}

/** Load address, end and entry from the multiboot header (address fields required). */
function header(bin: Uint8Array): { load: number; end: number; entry: number; fileStart: number } {
  const v = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  for (let at = 0; at + 32 <= Math.min(bin.length, 8192); at += 4) {
    const flags = v.getUint32(at + 4, true);
    if (v.getUint32(at, true) !== MB_MAGIC || ((MB_MAGIC + flags + v.getUint32(at + 8, true)) | 0) !== 0) continue;
    if (!(flags & MB_FLAG_ADDRESS)) throw new Error('soft-bench-mb: multiboot header without address fields');
    const headerAddr = v.getUint32(at + 12, true), load = v.getUint32(at + 16, true);
    return { load, end: v.getUint32(at + 20, true), entry: v.getUint32(at + 28, true), fileStart: at - (headerAddr - load) };
  }
  throw new Error('soft-bench-mb: no multiboot header in the first 8 KiB');
}

export const checksumOf = (b: readonly number[]): number => (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;

/** The multiboot loop on the soft backend, timed from the first run() to the halt. */
export function runSoftMultiboot(iterations: number): LoopRun {
  const bin = multibootImage(iterations);
  const h = header(bin);
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(4 * 2 ** 20);
    m.map(0, ram);
    ram.bytes.set(bin.subarray(h.fileStart, h.fileStart + (h.end - h.load)), h.load);
    const cpu = m.createVcpu(0);
    const st = flat32State(h.entry, 0);
    st.gprs!.rax = BigInt(MB_LOADER_MAGIC);
    cpu.setState(st);
    const out: number[] = [];
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    for (;;) {
      const e = cpu.run();
      if (e.reason === 'halted') break;
      if (e.reason !== 'io' || e.port !== COM1) throw new Error(`soft-bench-mb on soft: unexpected exit ${e.reason}`);
      out.push(e.data[0]!);
      cpu.assistIo(e, () => {});
    }
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { instructions: Number(cpu.getState(State.MSRS).msrs!.tsc), cpuS: (c.user + c.system) / 1e6, wallS, checksum: checksumOf(out) };
  } finally {
    hv.close();
  }
}
