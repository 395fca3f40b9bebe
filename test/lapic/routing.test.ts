/**
 * Four LAPICs wired the way a monitor would: each one's onIpi goes through selectTargets() to
 * receive() on the others. AP bring-up (INIT, SIPI), reschedule IPIs, broadcast NMI, and
 * lowest-priority choice by TPR and focus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { Lapic, selectTargets, type IpiRequest } from '../../src/vmm/irq/lapic.js';
import { LapicReg } from './fixture.js';

function machine(n: number) {
  const clock = new ManualClock();
  const lapics: Lapic[] = [];
  const send = (sender: Lapic, req: IpiRequest) => {
    for (const target of selectTargets(lapics, req, req.shorthand, sender)) target.receive(req);
  };
  for (let i = 0; i < n; i++) {
    const l: Lapic = new Lapic({
      apicId: i, bsp: i === 0, clock, tsc: { hz: 1e9, offset: () => 0n },
      onIpi: (req) => send(l, req), onEoi: () => {},
    });
    lapics.push(l);
  }
  const wr = (l: Lapic, offset: number, value: number) => {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, value >>> 0, true);
    l.write(offset, d);
  };
  for (const l of lapics) {
    wr(l, LapicReg.SVR, 0x1ff);
    wr(l, LapicReg.LDR, (1 << l.apicId) << 24); // flat logical: one bit per CPU
  }
  return { lapics, wr };
}

test('AP bring-up through the BSP ICR: INIT, de-assert, SIPI', () => {
  const { lapics: [bsp, ap1, ap2], wr } = machine(3);
  wr(bsp!, LapicReg.ICR_HIGH, 2 << 24);
  wr(bsp!, LapicReg.ICR_LOW, 0xc500);
  wr(bsp!, LapicReg.ICR_LOW, 0x8500);
  assert.equal(ap2!.takeInit(), true);
  assert.equal(ap2!.waitingForSipi, true);
  assert.equal(ap1!.takeInit(), false, 'only the addressed AP');
  wr(bsp!, LapicReg.ICR_LOW, 0x0610);
  assert.equal(ap2!.takeSipi(), 0x10);
  assert.equal(ap1!.takeSipi(), undefined, 'AP 1 was not waiting');
});

test('fixed IPIs: physical, logical set, all-excluding-self NMI', () => {
  const { lapics: [a, b, c, d], wr } = machine(4);
  wr(a!, LapicReg.ICR_HIGH, 3 << 24);
  wr(a!, LapicReg.ICR_LOW, 0xfd);
  assert.equal(d!.pendingVector(), 0xfd);
  assert.equal(b!.pendingVector(), undefined);
  wr(a!, LapicReg.ICR_HIGH, 0x06 << 24); // logical: CPUs 1 and 2
  wr(a!, LapicReg.ICR_LOW, 0x800 | 0xfb);
  assert.equal(b!.pendingVector(), 0xfb);
  assert.equal(c!.pendingVector(), 0xfb);
  wr(c!, LapicReg.ICR_LOW, 0xc0400);
  assert.deepEqual([a, b, c, d].map((l) => l!.takeNmi()), [true, true, false, true]);
});

test('lowest priority: the lowest TPR wins, a focus processor wins over TPR, disabled APICs are skipped', () => {
  const { lapics: [a, b, c], wr } = machine(3);
  wr(a!, LapicReg.TPR, 0x40);
  wr(b!, LapicReg.TPR, 0x20);
  wr(c!, LapicReg.TPR, 0x30);
  const msg = { destination: 0xff, destMode: 'logical' as const, deliveryMode: 'lowest-priority' as const, vector: 0x51, level: true, trigger: 'edge' as const };
  assert.deepEqual(selectTargets([a!, b!, c!], msg), [b]);
  c!.accept(0x51, 'edge');
  assert.deepEqual(selectTargets([a!, b!, c!], msg), [c], 'focus: 0x51 already pending on c');
  wr(c!, LapicReg.SVR, 0x3ff); // focus checking disabled
  assert.deepEqual(selectTargets([a!, b!, c!], msg), [b]);
  assert.deepEqual(b!.writeApicBaseMsr(0xfee00000n), { ok: true }); // EN clear: globally disabled
  assert.deepEqual(selectTargets([a!, b!, c!], msg), [a], 'b is off the bus; a (APR 0x40) is below c (0x50: its pending 0x51 raised it)');
});
