/**
 * Injection and window exits on KVM with real guests: an interrupt the guest cannot take yet is
 * held and delivered when the window opens; exceptions with and without an error code; NMI;
 * int-ready / nmi-ready exits on request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from '../../src/index.js';
import type { IoExit, VmExit } from '../../src/index.js';
import { skipUnlessKvm } from '../support.js';
import { LOAD, longGuest, runTo, setGate, useIdt } from './kvm-guest.js';
import type { LongGuest } from './kvm-guest.js';

const skip = skipUnlessKvm();

function intrGuest(): LongGuest {
  const g = longGuest('kvm-intr');
  setGate(g.view, 0x40, LOAD + 0x100);
  setGate(g.view, 13, LOAD + 0x140);
  setGate(g.view, 2, LOAD + 0x180);
  setGate(g.view, 6, LOAD + 0x1c0);
  useIdt(g.cpu);
  return g;
}

function port(e: VmExit): number {
  assert.equal(e.reason, 'io', `expected io, got ${e.reason}${e.reason === 'invalid' ? ': ' + e.detail : ''}`);
  return (e as IoExit).port;
}

test('an interrupt injected while IF=0 is held, then delivered at the window; exceptions and NMI', { skip }, () => {
  const g = intrGuest();
  try {
    const { cpu } = g;
    let e = runTo(cpu);
    assert.equal(port(e), 0x30);
    assert.equal(e.exitState.rflags & 0x200n, 0n, 'guest ran CLI');
    cpu.inject({ type: 'interrupt', vector: 0x40 });
    assert.equal(cpu.getState(State.INTR).intr!.evtPending, true, 'the held interrupt shows as pending');
    // VT-x/AMD-V exit the moment the window opens (after STI + its shadow): the handler (0x40)
    // runs before the 0x31 marker. The PVM module notices the window only at the guest's next
    // exit, so there the handler runs right after 0x31. Never before STI.
    const order: number[] = [];
    for (e = runTo(cpu); port(e) !== 0x34; e = runTo(cpu)) {
      order.push(port(e));
      if (port(e) === 0x40) {
        assert.deepEqual([...(e as IoExit).data], [0x40]);
        assert.equal(e.exitState.rflags & 0x200n, 0n, 'the interrupt gate cleared IF in the handler');
      }
      assert.ok(order.length <= 2, `ports ${order.map((p) => p.toString(16))}`);
    }
    assert.ok(order.join() === '64,49' || order.join() === '49,64', `delivery order ${order.map((p) => p.toString(16))}`);
    console.log(`# kvm events: interrupt window noticed ${order[0] === 0x40 ? 'at once' : 'at the next exit'}`);
    assert.equal(cpu.getState(State.INTR).intr!.evtPending, false);

    cpu.inject({ type: 'exception', vector: 13, errorCode: 0x1234 });
    e = runTo(cpu);
    assert.equal(port(e), 0x41, '#GP handler ran');
    assert.deepEqual([...(e as IoExit).data], [0x34, 0x12, 0, 0], 'with the injected error code');
    assert.equal(port(runTo(cpu)), 0x32);

    cpu.inject({ type: 'exception', vector: 6 });
    assert.equal(port(runTo(cpu)), 0x43, '#UD handler ran (no error code pushed: IRETQ works)');
    assert.equal(port(runTo(cpu)), 0x33);

    cpu.inject({ type: 'nmi' });
    assert.equal(port(runTo(cpu)), 0x42, 'NMI handler ran');
    assert.equal(runTo(cpu).reason, 'halted');
  } finally {
    g.done();
  }
});

test('int-ready: requested window exits once the guest can take an interrupt', { skip }, () => {
  const g = intrGuest();
  try {
    const { cpu } = g;
    assert.equal(port(runTo(cpu)), 0x30);
    cpu.setState({ intr: { intWindowExiting: true } });
    assert.equal(cpu.getState(State.INTR).intr!.intWindowExiting, true);
    let e = runTo(cpu);
    if (e.reason === 'io') {
      // The PVM module notices the window only at the next exit (see above).
      assert.equal(port(e), 0x31);
      e = runTo(cpu);
    }
    assert.equal(e.reason, 'int-ready');
    assert.equal(e.exitState.rflags & 0x200n, 0x200n, 'IF is set at the window');
    assert.equal(e.exitState.intShadow, false);
    assert.equal(e.exitState.intWindowExiting, false, 'one-shot, as NVMM');
    cpu.inject({ type: 'interrupt', vector: 0x40 });
    assert.equal(port(runTo(cpu)), 0x40, 'injected at int-ready, taken at once');
  } finally {
    g.done();
  }
});

test('nmi-ready: reported when NMIs are unmasked', { skip }, () => {
  const g = intrGuest();
  try {
    const { cpu } = g;
    assert.equal(port(runTo(cpu)), 0x30);
    cpu.setState({ intr: { nmiWindowExiting: true } });
    const e = runTo(cpu);
    assert.equal(e.reason, 'nmi-ready');
    assert.equal(cpu.getState(State.INTR).intr!.nmiWindowExiting, false);
    assert.equal(port(runTo(cpu)), 0x31, 'the guest then continues');
  } finally {
    g.done();
  }
});
