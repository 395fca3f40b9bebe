/**
 * The register sequence Linux 6.1 runs on the boot CPU (arch/x86/kernel/apic/apic.c
 * setup_local_APIC, lapic_setup_esr, the lapic clockevent), replayed against the model with a
 * PIC on LINT0, then the steady state: TSC-deadline ticks, a level-triggered IOAPIC interrupt
 * with its EOI forwarded, and a reschedule IPI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LapicReg, rig } from './fixture.js';

const LOCAL_TIMER_VECTOR = 0xec, ERROR_APIC_VECTOR = 0xfe, SPURIOUS_APIC_VECTOR = 0xff;

test('Linux boot CPU setup, then timer ticks, device interrupts and IPIs', () => {
  const t = rig();
  t.lapic.setVirtualWire(); // what the firmware role leaves; Linux's PIC code runs through LINT0 until then
  t.lapic.lint0(true);
  assert.equal(t.lapic.hasExtInt(), true, 'PIT IRQ 0 via the 8259 before the APIC is set up');
  t.lapic.lint0(false);

  // setup_local_APIC: soft-disable first.
  t.wr(LapicReg.SVR, t.rd(LapicReg.SVR) & ~0x100);
  // flat logical mode: DFR flat, LDR bit for CPU 0.
  t.wr(LapicReg.DFR, 0xffffffff);
  t.wr(LapicReg.LDR, (t.rd(LapicReg.LDR) & ~0xff000000) | (1 << 24));
  // TPR: accept everything except vectors 0x00-0x1f.
  t.wr(LapicReg.TPR, (t.rd(LapicReg.TPR) & ~0xff) | 0x10);
  // apic_pending_intr_clear: nothing in ISR/IRR.
  for (let i = 7; i >= 0; i--) {
    assert.equal(t.rd(LapicReg.ISR0 + 16 * i), 0);
    assert.equal(t.rd(LapicReg.IRR0 + 16 * i), 0);
  }
  // Enable, focus checking off, spurious vector 0xff.
  t.wr(LapicReg.SVR, (t.rd(LapicReg.SVR) & ~0xff) | 0x100 | 0x200 | SPURIOUS_APIC_VECTOR);
  // LVT0: the BSP keeps ExtINT unmasked (virtual wire) when LVT0 was unmasked; LVT1: NMI.
  const wasMasked = t.rd(LapicReg.LVT_LINT0) & 0x10000;
  t.wr(LapicReg.LVT_LINT0, wasMasked ? 0x10700 : 0x700);
  t.wr(LapicReg.LVT_LINT1, 0x400);
  // lapic_setup_esr.
  t.wr(LapicReg.ESR, 0);
  t.wr(LapicReg.ESR, 0);
  const oldEsr = t.rd(LapicReg.ESR);
  t.wr(LapicReg.LVT_ERROR, ERROR_APIC_VECTOR);
  t.wr(LapicReg.ESR, 0);
  assert.equal(oldEsr, 0);
  assert.equal(t.rd(LapicReg.ESR), 0);
  // The soft-disable write masked LVT0 (as on KVM), so Linux logs "masked ExtINT on CPU#0": the
  // IOAPIC carries the legacy IRQs from here on, and the PIC no longer reaches the CPU.
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0x10700);
  assert.equal(t.rd(LapicReg.PPR), 0x10);
  t.lapic.lint0(true);
  assert.equal(t.lapic.hasExtInt(), false);

  // lapic-deadline clockevent: LVTT in TSC-deadline mode, one WRMSR per event.
  t.wr(LapicReg.LVT_TIMER, LOCAL_TIMER_VECTOR | (2 << 17));
  let ticks = 0;
  for (let i = 0; i < 5; i++) {
    t.lapic.writeTscDeadline(t.lapic.guestTsc() + 4_000_000n); // 4 ms at HZ=250
    const due = t.lapic.poll(t.clock.now());
    t.clock.advance(due - t.clock.now());
    t.lapic.poll(t.clock.now());
    if (t.lapic.pendingVector() === LOCAL_TIMER_VECTOR) {
      assert.equal(t.lapic.acknowledge(), LOCAL_TIMER_VECTOR);
      t.wr(LapicReg.EOI, 0);
      ticks++;
    }
  }
  assert.equal(ticks, 5);
  assert.deepEqual(t.eois, [], 'timer EOIs are edge: nothing to the IOAPIC');

  // A level-triggered IOAPIC interrupt (e.g. the ACPI SCI) while the timer is in service.
  t.lapic.writeTscDeadline(t.lapic.guestTsc() + 10n);
  t.clock.advance(10);
  t.lapic.poll(t.clock.now());
  assert.equal(t.lapic.acknowledge(), LOCAL_TIMER_VECTOR);
  t.lapic.receive({ destination: 1, destMode: 'logical', deliveryMode: 'fixed', vector: 0x29, level: true, trigger: 'level' });
  assert.equal(t.lapic.pendingVector(), undefined, 'below the in-service timer class');
  t.wr(LapicReg.EOI, 0);
  assert.equal(t.lapic.acknowledge(), 0x29);
  t.wr(LapicReg.EOI, 0);
  assert.deepEqual(t.eois, [0x29]);

  // A reschedule IPI to CPU 1 (physical destination) goes to the monitor.
  t.wr(LapicReg.ICR_HIGH, 1 << 24);
  t.wr(LapicReg.ICR_LOW, 0xfd);
  assert.equal(t.ipis.length, 1);
  assert.equal(t.ipis[0]!.destination, 1);
  assert.equal(t.ipis[0]!.vector, 0xfd);
  assert.equal(t.lapic.ignoredAccesses, 0, 'Linux never needed a convention');
});
