/**
 * IPIs (SDM "Issuing Interprocessor Interrupts"): ICR encodings as Linux writes them, handed to
 * onIpi; self IPIs delivered locally; the receiving side's destination matching (physical,
 * logical flat and cluster, broadcast), INIT/SIPI/NMI, and MSI decoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { decodeMsi, isInitDeassert, type IpiRequest } from '../../src/vmm/irq/lapic.js';
import { LapicReg, rig, SVR_ON } from './fixture.js';

function send(high: number, low: number, apicId = 0): IpiRequest[] {
  const t = rig({ apicId });
  t.wr(LapicReg.ICR_HIGH, high);
  t.wr(LapicReg.ICR_LOW, low);
  return t.ipis;
}

test('Linux AP bring-up: INIT assert, INIT de-assert, SIPI', () => {
  const dest = 3 << 24;
  const [init] = send(dest, 0xc500);
  assert.deepEqual(init, {
    destination: 3, destMode: 'physical', shorthand: 'none', deliveryMode: 'init', vector: 0, level: true, trigger: 'level', source: 0,
  });
  const [deassert] = send(dest, 0x8500);
  assert.equal(deassert!.level, false);
  assert.ok(isInitDeassert(deassert!));
  assert.ok(!isInitDeassert(init!));
  const [sipi] = send(dest, 0x069a, 2);
  assert.deepEqual(sipi, {
    destination: 3, destMode: 'physical', shorthand: 'none', deliveryMode: 'startup', vector: 0x9a, level: false, trigger: 'edge', source: 2,
  });
});

test('fixed, lowest-priority and NMI IPIs, logical destination, shorthands', () => {
  const [resched] = send(1 << 24, 0x40fd);
  assert.equal(resched!.deliveryMode, 'fixed');
  assert.equal(resched!.vector, 0xfd);
  assert.equal(resched!.destination, 1);
  const [lowest] = send(0x0f << 24, 0x0931);
  assert.equal(lowest!.deliveryMode, 'lowest-priority');
  assert.equal(lowest!.destMode, 'logical');
  assert.equal(lowest!.destination, 0x0f);
  const [nmiAllBut] = send(0, 0xc0400);
  assert.equal(nmiAllBut!.shorthand, 'all-excluding-self');
  assert.equal(nmiAllBut!.deliveryMode, 'nmi');
  const [all] = send(0, 0x80000 | 0xf3);
  assert.equal(all!.shorthand, 'all-including-self');
});

test('ICR reads back what was written; delivery status is always idle', () => {
  const t = rig();
  t.wr(LapicReg.ICR_HIGH, 0x05000000);
  t.wr(LapicReg.ICR_LOW, 0xfff3f0fd);
  assert.equal(t.rd(LapicReg.ICR_LOW), 0x0000c0fd, 'reserved bits and delivery status (bit 12) read 0');
  assert.equal(t.rd(LapicReg.ICR_HIGH), 0x05000000);
  assert.equal(t.ipis.length, 1);
});

test('self IPIs are delivered here, not routed; undefined self combinations send nothing', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.ICR_LOW, 0x40000 | 0x8000 | 0x61);
  assert.equal(t.ipis.length, 0);
  assert.equal(t.lapic.pendingVector(), 0x61);
  assert.equal(t.rd(LapicReg.TMR0 + 0x30), 0, 'level is treated as edge for self');
  t.wr(LapicReg.ICR_LOW, 0x40000 | 0x400);
  assert.equal(t.lapic.nmiPending, false);
  assert.equal(t.diagnostics.length, 1);
});

test('illegal and reserved ICR values: ESR send illegal vector, reserved modes, SMI', () => {
  const t = rig();
  t.wr(LapicReg.ICR_LOW, 0x000f); // fixed, vector 15
  t.wr(LapicReg.ICR_LOW, 0x0105); // lowest priority, vector 5
  assert.equal(t.ipis.length, 0);
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0x20);
  t.wr(LapicReg.ICR_LOW, 0x0400 | 0x05); // NMI ignores the vector: fine
  assert.equal(t.ipis.length, 1);
  t.wr(LapicReg.ICR_LOW, 0x0300); // remote read: reserved
  t.wr(LapicReg.ICR_LOW, 0x0700); // ExtINT: reserved for IPIs
  assert.equal(t.ipis.length, 1);
  assert.equal(t.diagnostics.length, 2);
  assert.throws(() => t.wr(LapicReg.ICR_LOW, 0x0200), (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /SMI/.test(e.message));
});

test('destination matching: physical, broadcast, logical flat and cluster', () => {
  const t = rig({ apicId: 2 });
  assert.ok(t.lapic.matchesDestination(2, 'physical'));
  assert.ok(!t.lapic.matchesDestination(3, 'physical'));
  assert.ok(t.lapic.matchesDestination(0xff, 'physical'));
  assert.ok(!t.lapic.matchesDestination(0x04, 'logical'), 'LDR 0 matches no logical destination');
  t.wr(LapicReg.LDR, 0x04000000); // flat: bit 2
  assert.ok(t.lapic.matchesDestination(0x04, 'logical'));
  assert.ok(t.lapic.matchesDestination(0x0c, 'logical'));
  assert.ok(!t.lapic.matchesDestination(0x03, 'logical'));
  assert.ok(t.lapic.matchesDestination(0xff, 'logical'));
  t.wr(LapicReg.DFR, 0x0fffffff); // cluster
  t.wr(LapicReg.LDR, 0x32000000); // cluster 3, member bit 1
  assert.ok(t.lapic.matchesDestination(0x32, 'logical'));
  assert.ok(t.lapic.matchesDestination(0x3f, 'logical'));
  assert.ok(!t.lapic.matchesDestination(0x22, 'logical'), 'other cluster');
  assert.ok(!t.lapic.matchesDestination(0x31, 'logical'), 'other member');
  t.wr(LapicReg.DFR, 0x5fffffff); // a reserved model
  assert.ok(!t.lapic.matchesDestination(0x32, 'logical'));
  t.lapic.writeApicBaseMsr(0xfee00100n);
  assert.ok(!t.lapic.matchesDestination(0xff, 'physical'), 'a globally disabled APIC is not on the bus');
});

test('INIT on an AP: reset except the ID, wait for SIPI; a SIPI outside that state is ignored', () => {
  const t = rig({ apicId: 1, bsp: false });
  assert.equal(t.lapic.acceptSipi(0x9a), false, 'not waiting: ignored');
  t.wr(LapicReg.ID, 0x07000000);
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.TPR, 0x40);
  t.lapic.accept(0x50, 'edge');
  t.lapic.receive({ destination: 7, destMode: 'physical', deliveryMode: 'init', vector: 0, level: true, trigger: 'level' });
  assert.equal(t.lapic.takeInit(), true);
  assert.equal(t.lapic.takeInit(), false);
  assert.equal(t.lapic.waitingForSipi, true);
  assert.equal(t.rd(LapicReg.ID), 0x07000000, 'ID kept');
  assert.equal(t.rd(LapicReg.SVR), 0xff);
  assert.equal(t.rd(LapicReg.TPR), 0);
  assert.equal(t.rd(LapicReg.IRR0 + 0x20), 0);
  t.lapic.receive({ destination: 7, destMode: 'physical', deliveryMode: 'startup', vector: 0x9a, level: true, trigger: 'edge' });
  assert.equal(t.lapic.waitingForSipi, false);
  assert.equal(t.lapic.takeSipi(), 0x9a);
  assert.equal(t.lapic.takeSipi(), undefined);
  assert.equal(t.lapic.acceptSipi(0x10), false, 'a second SIPI is ignored');
  // The INIT de-assert message changes nothing.
  t.wr(LapicReg.SVR, SVR_ON);
  t.lapic.receive({ destination: 7, destMode: 'physical', deliveryMode: 'init', vector: 0, level: false, trigger: 'level' });
  assert.equal(t.lapic.takeInit(), false);
  assert.equal(t.rd(LapicReg.SVR), SVR_ON);
});

test('INIT on the BSP resets it without waiting for a SIPI', () => {
  const t = rig({ bsp: true });
  t.lapic.acceptInit();
  assert.equal(t.lapic.takeInit(), true);
  assert.equal(t.lapic.waitingForSipi, false);
});

test('fixed and lowest-priority messages land in IRR with their trigger mode; SMI is refused', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.lapic.receive({ destination: 0, destMode: 'physical', deliveryMode: 'lowest-priority', vector: 0x33, level: true, trigger: 'level' });
  assert.equal(t.rd(LapicReg.TMR0 + 0x10), 1 << 0x13);
  assert.throws(() => t.lapic.receive({ destination: 0, destMode: 'physical', deliveryMode: 'smi', vector: 0, level: true, trigger: 'edge' }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP');
});

test('MSI decoding: address 0xFEExxxxx carries destination and mode, data carries vector and trigger', () => {
  assert.deepEqual(decodeMsi(0xfee01000, 0x0031), {
    destination: 1, destMode: 'physical', deliveryMode: 'fixed', vector: 0x31, level: true, trigger: 'edge', redirectionHint: false,
  });
  const m = decodeMsi(0xfeeff00c, 0xc141);
  assert.deepEqual(m, {
    destination: 0xff, destMode: 'logical', deliveryMode: 'lowest-priority', vector: 0x41, level: true, trigger: 'level', redirectionHint: true,
  });
  assert.equal(decodeMsi(0xfee00000, 0x8041)!.level, false, 'level-triggered de-assert');
  assert.equal(decodeMsi(0xfed00000, 0x31), undefined, 'not the interrupt range');
  assert.equal(decodeMsi(0xfee00000, 0x0331), undefined, 'reserved delivery mode 3');
});
