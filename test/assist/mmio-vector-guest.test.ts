/**
 * x87, MMX and SSE instructions with an MMIO operand, end to end: guests/assist-mmio-vec runs
 * once with its data page as RAM (the reference: KVM, i.e. the real CPU, when usable here, else
 * the soft CPU) and once on soft with the page unmapped, where each access is a 'memory' exit
 * that cpu.assistMem completes through the same SSE/x87 layers (AssistFaults injected, as a
 * monitor does). Compared: the per-instruction log (GPRs, RFLAGS and an FXSAVE64 image: x87
 * stack, tags, FSW/FCW, FIP/FDP/FOP, MMX, XMM, MXCSR; FXSAVE/FXRSTOR/XSAVE/XSAVEOPT/XRSTOR/
 * LDMXCSR/STMXCSR on the page too), the exceptions the guest took (vector,
 * error code, CS), the final data page. Checked on the MMIO run: every handler access is 1, 2,
 * 4 or 8 bytes, and the 16-byte and 10-byte operands arrive as ascending pieces.
 *
 * A KVM without VT-x/AMD-V (the PVM module) is no reference: it runs some SSE loads from RAM
 * through KVM's emulator too, and fails them; soft's RAM run is the reference there.
 * On KVM the MMIO run is not made: KVM completes MMIO in its in-kernel emulator
 * (backendCompletes), which has no x87 memory forms and few SSE ones (it fails the run with an
 * emulation error), so the comparison would test KVM, not tsvisor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestBinary } from '../support.js';
import { kvmWithoutHardware } from '../../src/backends/kvm/host-kind.js';
import { backendCases } from './backends.js';
import { LONG, runGuest, type GuestSetup } from './guest-run.js';
import { Rng } from './seeded.js';

const SEED = 0x5eed0f;
/** Log records the guest writes (REC), 640 bytes each, plus the 16 bytes of MXCSR/FSW after the faults. */
const RECORDS = 94, RECORD = 640;
const dataInit = new Rng(SEED).bytes(4096);

const backends = backendCases();
// A software KVM (the PVM module) hands some of these loads to KVM's emulator even from RAM, which
// fails them: it cannot serve as the CPU there.
const softwareKvm = kvmWithoutHardware();
const kvmUsable = backends.some((b) => b.name === 'kvm' && !b.skip);
if (kvmUsable && softwareKvm !== undefined) console.log(`# assist-mmio-vec: the reference is the soft CPU: ${softwareKvm}`);
const ref = kvmUsable && softwareKvm === undefined ? 'kvm' : 'soft';
const soft = backends.find((b) => b.name === 'soft')!;

/** Port 0xE9 words the exception handlers log (vector, error code, CS per exception). */
function setup(backend: 'kvm' | 'soft', dataAsRam: boolean, log: number[]): GuestSetup {
  return {
    backend, image: guestBinary('assist-mmio-vec'), mode: 'long', cpl: 0, dataGpa: LONG.DATA, dataInit, dataAsRam,
    gprs: { rbx: BigInt(LONG.DATA), r13: BigInt(LONG.LOG) },
    io: (req) => {
      if (req.port !== 0xe9 || req.in) throw new Error(`unexpected port access ${req.port.toString(16)}`);
      log.push(new DataView(req.data.buffer, req.data.byteOffset).getUint32(0, true) >>> 0);
    },
    injectAssistFaults: !dataAsRam,
  };
}

test(`assist-mmio-vec on soft: x87/MMX/SSE with MMIO operands through assistMem match RAM on ${ref} (seed ${SEED})`, { skip: soft.skip }, () => {
  const refLog: number[] = [], emuLog: number[] = [];
  const r = runGuest(setup(ref, true, refLog));
  const e = runGuest(setup('soft', false, emuLog));
  try {
    assert.equal(r.memExits, 0, 'the reference run has no MMIO');
    // Each of the 100 instructions with a data-page operand that gets as far as its access exits
    // once, and the 9 in the loop body 40 times.
    assert.equal(e.memExits, 100 + 9 * 40, 'memory exits emulated');
    // The exceptions: #GP(0) x2, #UD x2, #NM x3, #UD, #XM, #UD, #MF (vector, error code, CS 8).
    const vectors = refLog.filter((_, i) => i % 3 === 0);
    assert.deepEqual(vectors, [13, 13, 6, 6, 7, 7, 7, 6, 19, 6, 16], 'the reference took the expected exceptions');
    assert.deepEqual(emuLog, refLog, 'exceptions (vector, error code, CS) on the MMIO run');
    assert.deepEqual(e.injected, [19, 6], 'the #XM and its #UD twin come from the assist (the others are raised before any access)');
    const first = r.ram.subarray(LONG.LOG, LONG.LOG + RECORD);
    assert.ok(first.some((x) => x !== 0), 'the guest logged its first record');
    const end = LONG.LOG + RECORDS * RECORD + 16;
    for (let i = LONG.LOG; i < end; i++) {
      if (r.ram[i] !== e.ram[i]) {
        const rec = Math.floor((i - LONG.LOG) / RECORD), off = (i - LONG.LOG) % RECORD;
        const where = off < 128 ? `GPR/RFLAGS byte ${off}` : `FXSAVE byte ${off - 128}`;
        assert.fail(`log record ${rec} ${where}: CPU 0x${r.ram[i]!.toString(16)} vs emulated 0x${e.ram[i]!.toString(16)}`);
      }
    }
    assert.deepEqual(Array.from(e.data), Array.from(r.data), 'final data page');
    const sizes = new Set(e.accesses.map((a) => Number(a.split('/')[1])));
    assert.ok([...sizes].every((s) => [1, 2, 4, 8].includes(s)), `access sizes ${[...sizes].join(',')}`);
    const at = (a: string): number => parseInt(a.slice(2).split('/')[0]!, 16);
    // movdqu xmm0,[rbx+3] is the first MMIO access: two 8-byte reads, ascending.
    assert.deepEqual(e.accesses.slice(0, 2), ['r 3/8', 'r b/8']);
    // movdqu [rbx+0x21],xmm0: the soft CPU exits on its high half first; the assist writes both, low first.
    assert.deepEqual(e.accesses.slice(2, 4), ['w 21/8', 'w 29/8']);
    // fstp tbyte [rbx+0x2d0]: 8 + 2, ascending; fnsave [rbx+0x340]: 108 bytes in 8-byte pieces and a 4.
    const tbyte = e.accesses.findIndex((a) => a === 'w 2d0/8');
    assert.deepEqual(e.accesses.slice(tbyte, tbyte + 2), ['w 2d0/8', 'w 2d8/2']);
    const save = e.accesses.filter((a) => a.startsWith('w ') && at(a) >= 0x340 && at(a) < 0x3ac);
    assert.deepEqual(save, [...Array.from({ length: 13 }, (_, k) => `w ${(0x340 + 8 * k).toString(16)}/8`), 'w 3a8/4']);
    // fxsave64 [rbx+0x600]: 512 bytes, 64 ascending 8-byte writes.
    const fx = e.accesses.filter((a) => a.startsWith('w ') && at(a) >= 0x600 && at(a) < 0x800);
    assert.deepEqual(fx, Array.from({ length: 64 }, (_, k) => `w ${(0x600 + 8 * k).toString(16)}/8`));
    // xsave64 [rbx+0xa00]: XSTATE_BV read, the legacy region's components (bytes 0-415) ascending, XSTATE_BV written.
    const xs = e.accesses.indexOf('r c00/8');
    assert.deepEqual(e.accesses.slice(xs, xs + 54),
      ['r c00/8', ...Array.from({ length: 52 }, (_, k) => `w ${(0xa00 + 8 * k).toString(16)}/8`), 'w c00/8']);
  } finally {
    r.hv.close();
    e.hv.close();
  }
});

test('assist-mmio-vec with MMIO on KVM', { skip: 'KVM completes MMIO in its in-kernel emulator, which has no x87 memory forms and few SSE ones: not a tsvisor path' }, () => {});
