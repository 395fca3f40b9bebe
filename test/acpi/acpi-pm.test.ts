/**
 * The ACPI PM block: S5 through PM1a_CNT calls onPowerOff once, RESET_REG calls onReset, the PM
 * timer counts 3.579545 MHz from the Clock, and the SCI follows status & enable & SCI_EN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACPI_PM_DEFAULT_BASE, ACPI_RESET_VALUE, AcpiPmDevice, PM_TIMER_HZ, Pm1, Pm1Cnt, SLP_TYP_S5,
} from '../../src/vmm/devices/legacy/acpi-pm.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { VmmError } from '../../src/api/errors.js';
import { Rng, testSeed } from '../exec/rng.js';

const STS = 0x0;
const EN = 0x2;
const CNT = 0x4;
const TMR = 0x8;
const RST = 0xc;

function rig(opts: { timer32?: boolean } = {}) {
  const clock = new ManualClock(1_000_000); // not zero: the timer counts from power-on, not from t = 0
  const sci = new RecordingLine();
  const calls = { off: 0, reset: 0 };
  const dev = new AcpiPmDevice({
    sci, clock, ...opts,
    onPowerOff: () => calls.off++,
    onReset: () => calls.reset++,
  });
  const read = (offset: number, size: number): number => {
    const d = new Uint8Array(size);
    dev.read(offset, d);
    return d.reduce((v, b, i) => v + b * 2 ** (8 * i), 0);
  };
  const write = (offset: number, size: number, value: number): void => {
    dev.write(offset, Uint8Array.from({ length: size }, (_, i) => Math.floor(value / 2 ** (8 * i)) & 0xff));
  };
  return { clock, sci, calls, dev, read, write };
}

test('power-on state: SCI_EN set (no SMI_CMD), no events, SCI low; the block sits at 0x600 by default', () => {
  const { dev, read, sci } = rig();
  assert.equal(dev.base, ACPI_PM_DEFAULT_BASE);
  assert.equal(read(CNT, 2), Pm1Cnt.SCI_EN);
  assert.equal(read(STS, 2), 0);
  assert.equal(read(EN, 2), 0);
  assert.equal(sci.level, false);
  assert.equal(read(6, 2), 0xffff, 'reserved bytes float high');
  assert.equal(read(RST, 1), 0);
});

test('SLP_TYP=S5 with SLP_EN powers off exactly once, also in ACPICA\'s two-write sequence', () => {
  const { calls, write, read, dev } = rig();
  const typ = SLP_TYP_S5 << Pm1Cnt.SLP_TYP_SHIFT;
  write(CNT, 2, Pm1Cnt.SCI_EN | typ); // ACPICA writes SLP_TYP first...
  assert.equal(calls.off, 0, 'SLP_TYP alone does nothing');
  assert.equal(read(CNT, 2), Pm1Cnt.SCI_EN | typ, 'SLP_TYP reads back');
  write(CNT + 1, 1, (typ | Pm1Cnt.SLP_EN) >> 8); // ...then SLP_TYP | SLP_EN (here a byte write to the high half)
  assert.equal(calls.off, 1);
  assert.equal(read(CNT, 2) & Pm1Cnt.SLP_EN, 0, 'SLP_EN is write-only');
  write(CNT, 2, Pm1Cnt.SCI_EN | typ | Pm1Cnt.SLP_EN);
  assert.equal(calls.off, 1, 'a machine that is off does not power off twice');
  assert.equal(calls.reset, 0);
  dev.reset();
  write(CNT, 2, Pm1Cnt.SCI_EN | typ | Pm1Cnt.SLP_EN);
  assert.equal(calls.off, 2, 'after a reset the machine can power off again');
});

test('SLP_EN with S0 changes nothing; with an unannounced sleep type it is ENOTSUP naming the type', () => {
  const { calls, write } = rig();
  write(CNT, 2, Pm1Cnt.SCI_EN | Pm1Cnt.SLP_EN);
  assert.equal(calls.off, 0);
  for (const typ of [1, 2, 3, 4, 6, 7]) {
    assert.throws(() => write(CNT, 2, Pm1Cnt.SCI_EN | (typ << Pm1Cnt.SLP_TYP_SHIFT) | Pm1Cnt.SLP_EN),
      (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && e.message.includes(`SLP_TYP ${typ}`));
  }
  assert.equal(calls.off, 0);
});

test('RESET_REG: RESET_VALUE resets (once until reset()), other values do nothing', () => {
  const { calls, write, dev } = rig();
  for (const v of [0x00, 0x02, 0x04, 0x0e, 0xff]) write(RST, 1, v);
  assert.equal(calls.reset, 0);
  write(RST, 1, ACPI_RESET_VALUE);
  assert.equal(calls.reset, 1);
  write(RST, 1, ACPI_RESET_VALUE);
  assert.equal(calls.reset, 1);
  dev.reset();
  write(RST, 1, ACPI_RESET_VALUE);
  assert.equal(calls.reset, 2);
  assert.equal(calls.off, 0);
});

test('PM timer: 3.579545 MHz from the clock, 32 bits, any access width, writes ignored', () => {
  const { clock, read, write } = rig();
  assert.equal(read(TMR, 4), 0);
  clock.advance(1_000_000_000);
  assert.equal(read(TMR, 4), PM_TIMER_HZ);
  clock.advance(1);
  assert.equal(read(TMR, 4), PM_TIMER_HZ + 0, 'one ns is less than a tick (279 ns)');
  clock.advance(279);
  assert.equal(read(TMR, 4), PM_TIMER_HZ + 1);
  write(TMR, 4, 0);
  assert.equal(read(TMR, 4), PM_TIMER_HZ + 1);
  const v = read(TMR, 4);
  assert.equal(read(TMR, 2) + read(TMR + 2, 2) * 0x10000, v);
  assert.equal(read(TMR + 3, 1), v >>> 24);
  // 2^32 ticks later it has wrapped: exact at 20 minutes (4294967296 / 3579545 s ~ 1199.86 s)
  clock.advance(1200 * 1_000_000_000);
  assert.equal(read(TMR, 4), (PM_TIMER_HZ + 1 + 1200 * PM_TIMER_HZ) % 2 ** 32);
});

test('24-bit PM timer wraps at 2^24 and sets TMR_STS each time bit 23 flips; TMR_EN raises the SCI at poll()', () => {
  const { clock, read, write, sci, dev } = rig({ timer32: false });
  assert.equal(dev.ports.timer32, false);
  // The first ns at which n ticks have elapsed: ceil(n * 1e9 / Hz), exactly.
  const nsForTicks = (n: number): number => Number((BigInt(n) * 1_000_000_000n + BigInt(PM_TIMER_HZ) - 1n) / BigInt(PM_TIMER_HZ));
  const flip = nsForTicks(2 ** 23); // ns until bit 23 first flips
  write(EN, 2, Pm1.TMR);
  const start = clock.now();
  assert.equal(dev.poll(start), start + flip, 'poll names the moment of the carry');
  clock.advance(flip - 1);
  assert.equal(read(STS, 2) & Pm1.TMR, 0);
  assert.equal(dev.poll(clock.now()), start + flip);
  assert.equal(sci.level, false);
  clock.advance(1);
  assert.equal(read(TMR, 4), 2 ** 23);
  assert.equal(dev.poll(clock.now()), Infinity, 'nothing more is due while TMR_STS is pending');
  assert.equal(sci.level, true);
  assert.equal(read(STS, 2) & Pm1.TMR, Pm1.TMR);
  write(STS, 2, Pm1.TMR); // write 1 to clear
  assert.equal(read(STS, 2) & Pm1.TMR, 0);
  assert.equal(sci.level, false);
  const secondFlip = nsForTicks(2 ** 24);
  assert.equal(dev.poll(clock.now()), start + secondFlip);
  clock.advance(secondFlip - flip + 1);
  const ticks = Number((BigInt(secondFlip + 1) * BigInt(PM_TIMER_HZ)) / 1_000_000_000n);
  assert.ok(ticks >= 2 ** 24);
  assert.equal(read(TMR, 4), ticks - 2 ** 24, 'the count wrapped at 2^24');
  assert.equal(read(STS, 2) & Pm1.TMR, Pm1.TMR, 'the second flip (bit 23 back to 0 at the wrap) sets it again');
});

test('power button: PWRBTN_STS always latches; the SCI needs PWRBTN_EN and SCI_EN; write 1 clears', () => {
  const { dev, read, write, sci } = rig();
  dev.pressPowerButton();
  assert.equal(read(STS, 2), Pm1.PWRBTN);
  assert.equal(sci.level, false, 'not enabled');
  write(EN, 2, Pm1.PWRBTN);
  assert.equal(sci.level, true);
  write(CNT, 2, 0); // SCI_EN off: events would go to SMI, which this platform does not have
  assert.equal(sci.level, false);
  write(CNT, 2, Pm1Cnt.SCI_EN);
  assert.equal(sci.level, true);
  write(STS, 2, 0); // writing 0 clears nothing
  assert.equal(read(STS, 2), Pm1.PWRBTN);
  write(STS + 1, 1, Pm1.PWRBTN >> 8);
  assert.equal(read(STS, 2), 0);
  assert.equal(sci.level, false);
});

test('PM1_EN keeps only the defined enable bits', () => {
  const { read, write } = rig();
  write(EN, 2, 0xffff);
  assert.equal(read(EN, 2), Pm1.TMR | Pm1.GBL | Pm1.PWRBTN | Pm1.SLPBTN | Pm1.RTC | Pm1.PCIEXP_WAKE);
  write(EN, 1, 0);
  assert.equal(read(EN, 2), Pm1.PWRBTN | Pm1.SLPBTN | Pm1.RTC | Pm1.PCIEXP_WAKE, 'a byte write changes only its byte');
});

test('a block that would run past port 0xFFFF is refused', () => {
  assert.throws(() => new AcpiPmDevice({ base: 0xfffa, sci: new RecordingLine(), clock: new ManualClock(), onPowerOff() {}, onReset() {} }),
    (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && e.message.includes('0xfffa'));
});

test('PM timer count equals floor(elapsed ns * 3579545 / 1e9) mod 2^32 exactly over weeks of uptime (seeded)', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const { clock, read } = rig();
  let elapsed = 0;
  for (let i = 0; i < 2000; i++) {
    const step = rng.pick([1, 279, 280, 1_000_000, 999_999_999, 1_000_000_001]) + rng.int(rng.pick([10, 1e6, 1e12, 1e13]));
    clock.advance(step);
    elapsed += step;
    const want = Number(((BigInt(elapsed) * BigInt(PM_TIMER_HZ)) / 1_000_000_000n) % (1n << 32n));
    assert.equal(read(TMR, 4), want, `seed ${seed}: after ${elapsed} ns`);
  }
  assert.ok(elapsed > 1e15, `seed ${seed}: covered ${elapsed} ns`);
});
