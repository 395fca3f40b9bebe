/**
 * P4 helper: v86 (the npm package, an x86 emulator with an x86-to-wasm JIT; a devDependency used
 * only here) running the multiboot form of the compute loop headless in this process. v86 boots
 * a multiboot kernel without BIOS images (it enters the kernel in flat protected mode itself), so
 * the package's own files (libv86.mjs, v86.wasm) are all it needs, offline.
 * Timed in CPU time of this process from the emulator's construction (wasm compile and start-up
 * included) to the fourth checksum byte on COM1; instructions from v86's own counter.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { checksumOf, COM1, multibootImage, type LoopRun } from './p4-multiboot.js';

type V86Module = typeof import('v86');

/** The v86 module, or why it cannot be used (not installed). */
export async function loadV86(): Promise<V86Module | string> {
  try {
    return await import('v86');
  } catch (e) {
    return `v86 not installed (npm i -D v86): ${(e as Error).message}`;
  }
}

/** Runs the loop once; rejects after timeoutS without the checksum. */
export function runV86(v86: V86Module, iterations: number, timeoutS = 300): Promise<LoopRun> {
  const bin = multibootImage(iterations);
  const wasm = join(dirname(fileURLToPath(import.meta.resolve('v86'))), 'v86.wasm');
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  const emulator = new v86.V86({
    wasm_path: wasm,
    multiboot: { buffer: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer },
    memory_size: 32 * 2 ** 20,
    autostart: true,
    disable_speaker: true,
  });
  return new Promise((resolve, reject) => {
    const out: number[] = [];
    const timer = setTimeout(() => {
      void emulator.destroy();
      reject(new Error(`v86: no checksum after ${timeoutS} s (got ${out.length} bytes on COM1 0x${COM1.toString(16)})`));
    }, timeoutS * 1000);
    emulator.add_listener('serial0-output-byte', (byte: number) => {
      out.push(byte);
      if (out.length < 4) return;
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      const instructions = emulator.get_instruction_counter();
      clearTimeout(timer);
      void emulator.destroy().then(() => resolve({ instructions, cpuS: (c.user + c.system) / 1e6, wallS, checksum: checksumOf(out) }), reject);
    });
  });
}
