/**
 * The APIC timer against a ManualClock (1 GHz APIC bus: one tick per ns before division):
 * Linux's calibration in a masked count-down, one-shot and periodic events, divide
 * configuration, masking, mode switches, and TSC-deadline mode through IA32_TSC_DEADLINE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APIC_BUS_HZ } from '../../src/vmm/irq/lapic.js';
import { LapicReg, rig, SVR_ON, type Rig } from './fixture.js';

const LOCAL_TIMER_VECTOR = 0xec;
const PERIODIC = 1 << 17, TSC_DEADLINE = 2 << 17, MASKED = 1 << 16;

function enabled(): Rig {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  return t;
}
/** Takes and retires the pending vector, if any; returns it. */
function service(t: Rig): number | undefined {
  if (t.lapic.pendingVector() === undefined) return undefined;
  const v = t.lapic.acknowledge();
  t.wr(LapicReg.EOI, 0);
  return v;
}

test('the bus runs at 1 GHz', () => {
  assert.equal(APIC_BUS_HZ, 1_000_000_000);
});

test('Linux calibration: masked periodic count-down, divide by 16, read the current count', () => {
  const t = enabled();
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | PERIODIC | MASKED);
  t.wr(LapicReg.TIMER_DIVIDE, 0x3); // divide by 16
  const initial = Math.floor(0xffffffff / 16);
  t.wr(LapicReg.TIMER_INITIAL, initial);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), initial);
  t.clock.advance(16 * 1000 + 15);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), initial - 1000, '1000 ticks of 16 ns');
  t.clock.advance(10_000_000 * 16);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), initial - 10_001_000);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity, 'masked: no deadline for the monitor');
  assert.equal(t.lapic.pendingVector(), undefined);
});

test('one-shot: fires once at initial x divisor ns, then reads 0', () => {
  const t = enabled();
  t.wr(LapicReg.TIMER_DIVIDE, 0xb); // divide by 1
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
  const start = t.clock.now();
  t.wr(LapicReg.TIMER_INITIAL, 5000);
  assert.equal(t.lapic.poll(t.clock.now()), start + 5000);
  t.clock.advance(4999);
  assert.equal(t.lapic.poll(t.clock.now()), start + 5000);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 1);
  assert.equal(service(t), undefined);
  t.clock.advance(1);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity);
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 0);
  t.clock.advance(1_000_000);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity);
  assert.equal(service(t), undefined, 'one-shot');
});

test('periodic: reloads from the initial count every period; a late poll raises once', () => {
  const t = enabled();
  t.wr(LapicReg.TIMER_DIVIDE, 0x0); // divide by 2
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | PERIODIC);
  const start = t.clock.now();
  t.wr(LapicReg.TIMER_INITIAL, 1000); // period 2000 ns
  t.clock.advance(2000);
  assert.equal(t.lapic.poll(t.clock.now()), start + 4000);
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 1000, 'reloaded');
  t.clock.advance(500);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 750);
  t.clock.advance(10 * 2000);
  assert.equal(t.lapic.poll(t.clock.now()), start + 2000 * 12, 'next boundary after now (now = start + 22500)');
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
  assert.equal(service(t), undefined, 'missed periods merged into one IRR bit');
  t.wr(LapicReg.TIMER_INITIAL, 0);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity, 'initial count 0 stops the timer');
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 0);
});

test('writing the initial count restarts the count-down', () => {
  const t = enabled();
  t.wr(LapicReg.TIMER_DIVIDE, 0xb);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
  t.wr(LapicReg.TIMER_INITIAL, 1000);
  t.clock.advance(900);
  t.wr(LapicReg.TIMER_INITIAL, 1000);
  t.clock.advance(900);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), undefined);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 100);
});

test('every divide configuration', () => {
  const codes: [number, number][] = [[0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1]];
  for (const [code, divisor] of codes) {
    const t = enabled();
    t.wr(LapicReg.TIMER_DIVIDE, code | 0x4); // bit 2 is reserved: ignored
    t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
    t.wr(LapicReg.TIMER_INITIAL, 100);
    assert.equal(t.lapic.poll(t.clock.now()), t.clock.now() + 100 * divisor, `code ${code}`);
    t.clock.advance(divisor * 30);
    assert.equal(t.rd(LapicReg.TIMER_CURRENT), 70, `code ${code}`);
  }
});

test('changing the divisor mid-count keeps the count and slows the rest', () => {
  const t = enabled();
  t.wr(LapicReg.TIMER_DIVIDE, 0xb);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
  t.wr(LapicReg.TIMER_INITIAL, 1000);
  t.clock.advance(400);
  t.wr(LapicReg.TIMER_DIVIDE, 0x1); // by 4
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 600);
  assert.equal(t.lapic.poll(t.clock.now()), t.clock.now() + 2400);
});

test('a masked timer counts but does not interrupt, even when unmasked after it expired', () => {
  const t = enabled();
  t.wr(LapicReg.TIMER_DIVIDE, 0xb);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | MASKED);
  t.wr(LapicReg.TIMER_INITIAL, 100);
  t.clock.advance(50);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 50);
  t.clock.advance(100);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), undefined);
  // Periodic: unmasking later picks up from the next boundary.
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | PERIODIC | MASKED);
  t.wr(LapicReg.TIMER_INITIAL, 100);
  t.clock.advance(250);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | PERIODIC);
  assert.equal(t.lapic.poll(t.clock.now()), t.clock.now() + 50);
  assert.equal(service(t), undefined);
  t.clock.advance(50);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
});

test('changing the timer mode disarms the timer and clears the initial count', () => {
  const t = enabled();
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
  t.wr(LapicReg.TIMER_INITIAL, 1000);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | PERIODIC);
  assert.equal(t.rd(LapicReg.TIMER_INITIAL), 0);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity);
  t.wr(LapicReg.TIMER_INITIAL, 1000);
  t.wr(LapicReg.LVT_TIMER, 0x41 | PERIODIC); // same mode, new vector: keeps running
  assert.equal(t.rd(LapicReg.TIMER_INITIAL), 1000);
  t.clock.advance(2000);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), 0x41);
});

test('TSC-deadline: arm, fire, the MSR clears; 0 disarms; initial count ignored', () => {
  const t = enabled();
  assert.equal(t.lapic.readTscDeadline(), 0n);
  t.lapic.writeTscDeadline(5n);
  assert.equal(t.lapic.readTscDeadline(), 0n, 'ignored outside TSC-deadline mode');
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | TSC_DEADLINE);
  t.wr(LapicReg.TIMER_INITIAL, 1000);
  assert.equal(t.rd(LapicReg.TIMER_INITIAL), 0, 'initial-count writes are ignored');
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 0);
  const now = t.clock.now();
  const deadline = t.lapic.guestTsc() + 3000n;
  assert.equal(t.lapic.guestTsc(), BigInt(now), '1 GHz TSC, offset 0: TSC = ns');
  t.lapic.writeTscDeadline(deadline);
  assert.equal(t.lapic.readTscDeadline(), deadline);
  assert.equal(t.lapic.poll(now), now + 3000);
  t.clock.advance(2999);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), undefined);
  t.clock.advance(1);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity);
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
  assert.equal(t.lapic.readTscDeadline(), 0n, 'firing clears the MSR');
  // Moving and disarming.
  t.lapic.writeTscDeadline(t.lapic.guestTsc() + 100n);
  t.lapic.writeTscDeadline(t.lapic.guestTsc() + 50n);
  assert.equal(t.lapic.poll(t.clock.now()), t.clock.now() + 50);
  t.lapic.writeTscDeadline(0n);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity);
  t.clock.advance(1000);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), undefined);
  // A deadline already in the past fires at the next poll.
  t.lapic.writeTscDeadline(1n);
  t.lapic.poll(t.clock.now());
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
});

test('TSC-deadline with another TSC rate and offset rounds the deadline up, never early', () => {
  let offset = 1_000_000_000n;
  const t = rig({ tsc: { hz: 3_000_000_000, offset: () => offset } });
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | TSC_DEADLINE);
  const now = t.clock.now(); // 1 ms
  assert.equal(t.lapic.guestTsc(), offset + 3_000_000n);
  t.lapic.writeTscDeadline(offset + 3_000_001n + 3n);
  assert.equal(t.lapic.poll(now), now + 2, '4 TSC cycles at 3 GHz is 1.33 ns: due at 2 ns');
  offset += 6n; // the monitor moved the guest TSC forward 2 ns' worth
  t.lapic.poll(now);
  assert.equal(service(t), LOCAL_TIMER_VECTOR);
});

test('a masked TSC deadline still expires and clears the MSR, without an interrupt', () => {
  const t = enabled();
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | TSC_DEADLINE | MASKED);
  t.lapic.writeTscDeadline(t.lapic.guestTsc() + 10n);
  t.clock.advance(10);
  assert.equal(t.lapic.readTscDeadline(), 0n);
  assert.equal(service(t), undefined);
});

test('leaving TSC-deadline mode disarms the deadline', () => {
  const t = enabled();
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | TSC_DEADLINE);
  t.lapic.writeTscDeadline(t.lapic.guestTsc() + 10n);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | TSC_DEADLINE);
  assert.equal(t.lapic.readTscDeadline(), 0n);
  assert.equal(t.lapic.poll(t.clock.now() + 100), Infinity);
});

test('software-disabling the APIC masks the timer', () => {
  const t = enabled();
  t.wr(LapicReg.TIMER_DIVIDE, 0xb);
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | PERIODIC);
  t.wr(LapicReg.TIMER_INITIAL, 100);
  t.wr(LapicReg.SVR, 0xff);
  t.clock.advance(1000);
  assert.equal(t.lapic.poll(t.clock.now()), Infinity);
  assert.equal(t.lapic.pendingVector(), undefined);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 100 - (1000 % 100), 'still counting');
});
