/**
 * Seeded fuzzing: a guest that writes anything anywhere in the page (any size, any offset), and
 * a monitor that accepts, acknowledges, drives LINT pins, sends messages, moves time and writes
 * the MSRs at random. Only the documented VmmErrors may escape (SMI: ENOTSUP), and the
 * architectural invariants hold after every step. The seed prints on failure (TSVISOR_SEED=...).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { Rng, testSeed } from '../exec/rng.js';
import type { InterruptMessage } from '../../src/vmm/irq/lapic.js';
import { LapicReg, rig, type Rig } from './fixture.js';

const ROUNDS = Number(process.env.TSVISOR_LAPIC_FUZZ ?? 20000);
const OFFSETS = [
  LapicReg.ID, LapicReg.TPR, LapicReg.EOI, LapicReg.LDR, LapicReg.DFR, LapicReg.SVR, LapicReg.ESR, LapicReg.ICR_LOW,
  LapicReg.ICR_HIGH, LapicReg.LVT_TIMER, LapicReg.LVT_LINT0, LapicReg.LVT_LINT1, LapicReg.LVT_ERROR, LapicReg.LVT_CMCI,
  LapicReg.TIMER_INITIAL, LapicReg.TIMER_DIVIDE, LapicReg.TIMER_CURRENT, LapicReg.PPR, LapicReg.IRR0,
];
const MODES = ['fixed', 'lowest-priority', 'nmi', 'init', 'startup', 'extint'] as const;
const LVTS = [LapicReg.LVT_CMCI, LapicReg.LVT_TIMER, LapicReg.LVT_THERMAL, LapicReg.LVT_PERF, LapicReg.LVT_LINT0,
  LapicReg.LVT_LINT1, LapicReg.LVT_ERROR];

/** A value biased toward what matters: SMI delivery modes are rare so runs go deep. */
function value(rng: Rng): number {
  const v = Number(rng.u32());
  switch (rng.int(4)) {
    case 0: return v;
    case 1: return v & 0x000cffff & ~(rng.int(8) === 0 ? 0 : 0x200); // LVT/ICR-shaped, mostly not SMI
    case 2: return rng.int(256);
    default: return rng.pick([0, 0x1ff, 0x700, 0x400, 0x10000, 0x20000 | 0xec, 0x40000 | 0xec, 0xffffffff]);
  }
}

function step(t: Rig, rng: Rng): void {
  const l = t.lapic;
  switch (rng.int(12)) {
    case 0: case 1: case 2: {
      const aligned = rng.int(4) !== 0;
      const offset = aligned ? rng.pick(OFFSETS) : rng.int(4096);
      const size = aligned ? 4 : rng.pick([1, 2, 4, 8]);
      const data = new Uint8Array(size);
      const v = value(rng);
      for (let b = 0; b < size; b++) data[b] = (v >>> (8 * (b & 3))) & 0xff;
      if (offset + size > 4096) return;
      if (rng.int(2) === 0) l.read(offset, data);
      else l.write(offset, data);
      return;
    }
    case 3: l.accept(rng.int(256), rng.int(2) ? 'level' : 'edge'); return;
    case 4: if (l.globallyEnabled && l.pendingVector() !== undefined) {
      const v = l.acknowledge();
      assert.ok(v >= 16, `acknowledged vector ${v}`);
    } return;
    case 5: t.wr(LapicReg.EOI, 0); return;
    case 6: l.lint(rng.int(2) ? 'lint0' : 'lint1', rng.int(2) === 0); return;
    case 7: {
      const m: InterruptMessage = {
        destination: rng.int(256), destMode: rng.int(2) ? 'logical' : 'physical', deliveryMode: rng.pick(MODES),
        vector: rng.int(256), level: rng.int(4) !== 0, trigger: rng.int(2) ? 'level' : 'edge',
      };
      l.receive(m);
      return;
    }
    case 8: t.clock.advance(rng.pick([0, 1, 7, 100, 4096, 1_000_000, 1e9])); {
      const now = t.clock.now();
      const next = l.poll(now);
      assert.ok(next > now, `poll(${now}) returned ${next}, not in the future`);
    } return;
    case 9: {
      const r = l.writeApicBaseMsr(rng.int(3) === 0 ? rng.u64() : 0xfee00000n | rng.pick([0n, 0x100n, 0x800n, 0x900n, 0xd00n]));
      if (!r.ok) assert.match(r.reason, /IA32_APIC_BASE/);
      return;
    }
    case 10: l.writeTscDeadline(rng.int(2) ? l.guestTsc() + BigInt(rng.int(10000)) : rng.u64()); return;
    default: if (rng.int(2)) l.cr8 = rng.int(16); else { l.takeNmi(); l.takeInit(); l.takeSipi(); l.acknowledgeExtInt(); }
  }
}

function checkInvariants(t: Rig): void {
  const l = t.lapic;
  if (!l.globallyEnabled) {
    assert.equal(l.pendingVector(), undefined);
    return;
  }
  assert.equal(t.rd(LapicReg.IRR0) & 0xffff, 0, 'IRR never holds vectors 0-15');
  assert.equal(t.rd(LapicReg.ISR0) & 0xffff, 0, 'ISR never holds vectors 0-15');
  assert.equal(t.rd(LapicReg.DFR) & 0x0fffffff, 0x0fffffff);
  assert.equal(t.rd(LapicReg.ESR) & ~0xff, 0);
  const tpr = t.rd(LapicReg.TPR), ppr = t.rd(LapicReg.PPR);
  let isrv = 0;
  for (let i = 7; i >= 0 && isrv === 0; i--) {
    const w = t.rd(LapicReg.ISR0 + 16 * i);
    if (w) isrv = i * 32 + 31 - Math.clz32(w);
  }
  assert.equal(ppr, (tpr >> 4) >= (isrv >> 4) ? tpr : isrv & 0xf0, 'PPR formula');
  const pending = l.pendingVector();
  if (pending !== undefined) assert.ok((pending >> 4) > (ppr >> 4));
  for (const lvt of LVTS) {
    const e = t.rd(lvt);
    assert.equal(e & ~0x7f7ff, 0, `LVT ${lvt.toString(16)} reserved bits`);
    if (!l.softwareEnabled) assert.ok(e & 0x10000, 'masked while software-disabled');
  }
  assert.ok(t.rd(LapicReg.TIMER_CURRENT) <= t.rd(LapicReg.TIMER_INITIAL));
}

test('random register and monitor traffic keeps the APIC architectural', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  let t = rig({ apicId: rng.int(255), bsp: rng.int(2) === 0 });
  let smiRefusals = 0;
  for (let i = 0; i < ROUNDS; i++) {
    try {
      step(t, rng);
      checkInvariants(t);
    } catch (e) {
      if (e instanceof VmmError && e.code === 'ENOTSUP' && /SMI/.test(e.message)) {
        smiRefusals++;
        continue;
      }
      assert.fail(`seed ${seed} (TSVISOR_SEED=${seed}), round ${i}: ${e instanceof Error ? e.stack : String(e)}`);
    }
    if (rng.int(2000) === 0) t = rig({ apicId: rng.int(255), bsp: rng.int(2) === 0 });
  }
  assert.ok(smiRefusals < ROUNDS / 10, `seed ${seed}: the run went deep (${smiRefusals} SMI refusals)`);
});
