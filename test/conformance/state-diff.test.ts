/**
 * Differential setState fuzz (seeded; the seed is printed on failure, TSVISOR_STATE_SEED reruns
 * one): random CR0/CR3/CR4/EFER/CS.L/address-MSR combinations, each applied to a kvm and a soft
 * vCPU in the same long-mode state. Both must give the same answer (accepted, or VmmError with
 * the same code) and, when both accept, read back the same values. Allowed differences, each
 * from the capability: a bit one backend's cr4Mask/eferMask lacks, a CR3 between the two
 * physAddrBits; and ENOTSUP from a KVM host that cannot hold a mode (paging outside long mode
 * on the PVM module).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, VmmError, type Vcpu, type VcpuStateInput } from '../../src/index.js';
import { backendSkip } from '../frontend/real-backends.js';
import { Rng } from '../exec/rng.js';
import { RAM_SIZE, setupState } from './harness.js';

const CASES = 300;
const CR0S = [0x11n, 0x31n, 0x1n, 0x10n, 0x80000011n, 0x80000001n, 0x80010031n, 0x80050033n, 0x60000011n,
  0x40000011n, 0x20000011n, 0x80000000n, 0x11n | (1n << 7n), 0x80010031n | (1n << 19n)];
const CR4S = [0n, 0x20n, 0x620n, 0x6a0n, 0x10620n, 0x40620n, 0x100620n, 0x1620n, 0x4620n, 0x80n, 0x10n, 0x800620n];
const EFERS = [0n, 0x1n, 0x100n, 0x400n, 0x500n, 0x501n, 0x800n, 0xd01n, 0x4501n, 0x1501n];
const CR3S = [0x3f0000n, 0x1000n, 1n << 39n, 1n << 40n, 1n << 47n, 1n << 51n];
/** Consistent [CR0, CR4, EFER] starting points (long mode, protected mode, 32-bit and PAE paging), perturbed by one bit. */
const MODES: readonly (readonly [bigint, bigint, bigint])[] = [
  [0x80010031n, 0x620n, 0x501n], [0x80010031n, 0x620n, 0xd01n], [0x11n, 0x600n, 0n], [0x31n, 0n, 0x1n],
  [0x80000011n, 0x10n, 0n], [0x80000011n, 0x20n, 0x800n],
];
const ADDRS = [0n, 0x7fffffffffffn, 0x800000000000n, 0xffff800000000000n, 0xfff0000000000000n, 0x8000000000000000n];

interface Side { cpu: Vcpu; hv: Hypervisor; base: VcpuStateInput }

function side(backend: 'kvm' | 'soft'): Side {
  const hv = Hypervisor.open({ backend });
  const m = hv.createMachine();
  const ram = m.allocate(RAM_SIZE);
  m.map(0, ram);
  const cpu = m.createVcpu(0);
  setupState(cpu, ram.bytes, { name: 'state-diff', start: 'long-kernel', load: 0x10000, compare: [] });
  const now = cpu.getState(State.CRS | State.MSRS | State.SEGS);
  const base: VcpuStateInput = { crs: now.crs!, msrs: now.msrs!, segs: { cs: now.segs!.cs } };
  return { cpu, hv, base };
}

function outcome(cpu: Vcpu, st: VcpuStateInput): string {
  try {
    cpu.setState(st);
    const x = cpu.getState(State.CRS | State.MSRS | State.SEGS);
    return `ok cr0=${x.crs!.cr0.toString(16)} cr3=${x.crs!.cr3.toString(16)} cr4=${x.crs!.cr4.toString(16)} efer=${x.msrs!.efer.toString(16)} ` +
      `lstar=${x.msrs!.lstar.toString(16)} kgs=${x.msrs!.kernelgsbase.toString(16)} l=${x.segs!.cs.l}`;
  } catch (e) {
    if (!(e instanceof VmmError)) throw e;
    return e.code;
  }
}

const skip = backendSkip('kvm', 'kvm/soft setState differential') || backendSkip('soft', 'kvm/soft setState differential');

test(`setState answers and read-back agree on kvm and soft (${CASES} seeded random control-register states)`, { skip }, () => {
  const seed = Number(process.env.TSVISOR_STATE_SEED ?? Date.now() % 2 ** 31);
  const rng = new Rng(seed);
  const pick = <T>(a: readonly T[]): T => a[rng.int(a.length)]!;
  const k = side('kvm'), s = side('soft');
  try {
    const ka = k.hv.capability().arch, sa = s.hv.capability().arch;
    const cr4Diff = ka.cr4Mask ^ sa.cr4Mask, eferDiff = ka.eferMask ^ sa.eferMask;
    const physLo = BigInt(Math.min(ka.physAddrBits, sa.physAddrBits));
    const mismatches: string[] = [];
    for (let n = 0; n < CASES; n++) {
      const st: VcpuStateInput = {};
      if (rng.next() < 0.5) {
        const [cr0, cr4, efer] = pick(MODES);
        const flip = 1n << BigInt(rng.int(32));
        const which = rng.int(3);
        st.crs = { cr0: which === 0 ? cr0 ^ flip : cr0, cr4: which === 1 ? cr4 ^ flip : cr4 };
        st.msrs = { efer: which === 2 ? efer ^ flip : efer };
        if (rng.next() < 0.3) st.crs.cr3 = pick(CR3S);
        // The starting CS is 64-bit: the other modes need a 32-bit one.
        if ((efer & 0x100n) === 0n) st.segs = { cs: { ...k.base.segs!.cs!, l: 0, def: 1 } };
      } else {
        if (rng.next() < 0.8) st.crs = { cr0: pick(CR0S), cr4: pick(CR4S), ...(rng.next() < 0.3 ? { cr3: pick(CR3S) } : {}) };
        if (rng.next() < 0.7) st.msrs = { efer: pick(EFERS) };
      }
      if (rng.next() < 0.3) st.msrs = { ...st.msrs, lstar: pick(ADDRS), kernelgsbase: pick(ADDRS) };
      if (rng.next() < 0.2) st.segs = { cs: { ...k.base.segs!.cs!, l: rng.int(2), def: rng.int(2) } };
      const a = outcome(k.cpu, st), b = outcome(s.cpu, st);
      for (const x of [k, s]) x.cpu.setState(x.base);
      if (a === b) continue;
      const byMask = ((st.crs?.cr4 ?? 0n) & cr4Diff) !== 0n || ((st.msrs?.efer ?? 0n) & eferDiff) !== 0n ||
        ((st.crs?.cr3 ?? 0n) >> physLo) !== 0n;
      if (byMask && (a === 'EINVAL' || b === 'EINVAL')) continue;
      if (a === 'ENOTSUP') continue; // the KVM host cannot hold this mode (and says so)
      const json = JSON.stringify(st, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
      mismatches.push(`${json}\n    kvm:  ${a}\n    soft: ${b}`);
    }
    assert.deepEqual(mismatches, [], `seed ${seed}: ${mismatches.length} of ${CASES} states answered differently`);
  } finally {
    k.hv.close();
    s.hv.close();
  }
});
