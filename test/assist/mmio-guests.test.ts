/**
 * The memory assist against real guests: assist-mmio64 (64-bit, CPL3) and assist-mmio16 (real
 * mode) run once with their data page as RAM (the reference: KVM, i.e. the real CPU, when it is
 * usable here, else the backend under test) and once per backend with it unmapped (each access
 * exits and cpu.assistMem completes it against a byte-array device). The per-instruction
 * register/flag logs, the RAM buffers and the final data page must be identical.
 * On soft, assistMem runs our decoder + executor, so soft-MMIO vs KVM-RAM is our emulator against
 * hardware; on KVM the backend completes the instruction (backendCompletes) and the assist only
 * exchanges data, so that run checks the public path on KVM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestBinary } from '../support.js';
import { backendCases } from './backends.js';
import { LONG, runGuest, type GuestSetup } from './guest-run.js';
import { Rng } from './seeded.js';

const SEED = 0x5eed01;

interface GuestCase {
  name: string;
  mode: 'long' | 'real';
  dataGpa: number;
  /** RAM ranges the guest writes results into: [start, end). */
  compare: [number, number][];
  /** Size of one log record and where the log starts (to name the first differing instruction). */
  log: { at: number; record: number };
  gprs: Record<string, bigint>;
  minMemExits: number;
}

const rng = new Rng(SEED);
const pattern = (): Record<string, bigint> => {
  const g: Record<string, bigint> = {};
  for (const r of ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14']) g[r] = rng.u64();
  return g;
};

const CASES: GuestCase[] = [
  {
    name: 'assist-mmio64', mode: 'long', dataGpa: LONG.DATA,
    compare: [[LONG.BUF, LONG.BUF + 0x1000], [LONG.LOG, LONG.LOG + 0x10000]],
    log: { at: LONG.LOG, record: 128 },
    gprs: { ...pattern(), rbx: BigInt(LONG.DATA), rbp: BigInt(LONG.BUF), r15: BigInt(LONG.LOG) },
    minMemExits: 150,
  },
  {
    name: 'assist-mmio16', mode: 'real', dataGpa: 0x80000,
    compare: [[0x9000, 0xb000]],
    log: { at: 0x9000, record: 16 },
    gprs: {},
    minMemExits: 20,
  },
];

const dataInit = new Rng(SEED + 1).bytes(4096);
const bufInit = new Rng(SEED + 2).bytes(0x1000);

const backends = backendCases();
const refBackend = backends.find((b) => b.name === 'kvm' && !b.skip) ?? undefined;

for (const b of backends) {
  for (const c of CASES) {
    const refName = refBackend?.name ?? b.name;
    test(`${c.name} on ${b.name}: MMIO through assistMem matches RAM on ${refName} (seed ${SEED})`, { skip: b.skip }, () => {
      const setup = (backend: 'kvm' | 'soft', dataAsRam: boolean): GuestSetup => ({
        backend, image: guestBinary(c.name), mode: c.mode, dataGpa: c.dataGpa, dataInit, dataAsRam,
        preload: c.mode === 'long' ? [[LONG.BUF, bufInit]] : [],
        gprs: c.gprs,
      });
      const ref = runGuest(setup(refName, true));
      const emu = runGuest(setup(b.name, false));
      try {
        assert.equal(ref.memExits, 0, 'the reference run has no MMIO');
        assert.ok(emu.memExits >= c.minMemExits, `only ${emu.memExits} memory exits were emulated`);
        const first = ref.ram.subarray(c.log.at, c.log.at + c.log.record);
        assert.ok(first.some((x) => x !== 0), 'the guest logged its first instruction');
        for (const [lo, hi] of c.compare) {
          for (let i = lo; i < hi; i++) {
            if (ref.ram[i] !== emu.ram[i]) {
              const rec = Math.floor((i - c.log.at) / c.log.record);
              const where = i >= c.log.at && rec >= 0 ? `log record ${rec} byte ${(i - c.log.at) % c.log.record}` : `RAM 0x${i.toString(16)}`;
              assert.fail(`${where}: CPU 0x${ref.ram[i]!.toString(16)} vs emulated 0x${emu.ram[i]!.toString(16)}`);
            }
          }
        }
        assert.deepEqual(Array.from(emu.data), Array.from(ref.data), 'final data page');
      } finally {
        ref.hv.close();
        emu.hv.close();
      }
    });
  }
}
