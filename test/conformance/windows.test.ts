/**
 * Conformance of the window exits (int-ready / nmi-ready) on every backend usable here, through
 * the public API. The contract (src/api/types.ts Intr): a window request is one-shot, as on NVMM:
 * the backend clears it when it reports the exit; a window that is already open when it is
 * requested is reported at the next run(), before the guest executes anything more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, type BackendName, type Vcpu, type VmExit } from '../../src/index.js';
import { backendSkip, BACKEND_NAMES } from '../frontend/real-backends.js';
import { describeExit, RAM_SIZE, setupState } from './harness.js';

const LOAD = 0x10000;
const IDT = 0x30000, HANDLER_40 = 0x11000;
/** cli; out 0x30; sti; nop; out 0x31; out 0x32; out 0x33; hlt (64-bit, CPL0). */
const CODE = [0xfa, 0xe6, 0x30, 0xfb, 0x90, 0xe6, 0x31, 0xe6, 0x32, 0xe6, 0x33, 0xf4];

/** One exit as the tests compare it: the reason, or 'io:<port>' for port writes (completed). */
type Step = string;

function withGuest(backend: BackendName, body: (cpu: Vcpu, next: () => Step) => void): void {
  const hv = Hypervisor.open({ backend });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(RAM_SIZE);
    m.map(0, ram);
    ram.bytes.set(CODE, LOAD);
    // Vector 0x40 -> out 0x40, al; iretq (64-bit interrupt gate, kernel CS 0x08).
    ram.bytes.set([0xe6, 0x40, 0x48, 0xcf], HANDLER_40);
    const gate = new DataView(ram.bytes.buffer, ram.bytes.byteOffset + IDT + 0x40 * 16, 16);
    gate.setUint16(0, HANDLER_40 & 0xffff, true);
    gate.setUint16(2, 0x08, true);
    gate.setUint16(4, 0x8e00, true);
    gate.setUint16(6, HANDLER_40 >>> 16, true);
    const cpu = m.createVcpu(0);
    setupState(cpu, ram.bytes, { name: 'windows', start: 'long-kernel', load: LOAD, compare: [] });
    const idt = cpu.getState(State.SEGS).segs!.idt;
    cpu.setState({ segs: { idt: { ...idt, base: BigInt(IDT), limit: 0xfff } } }, State.SEGS);
    const next = (): Step => {
      const e: VmExit = cpu.run();
      if (e.reason === 'io' && !e.in) {
        cpu.assistIo(e, () => {});
        return `io:${e.port.toString(16)}`;
      }
      if (e.reason === 'int-ready' || e.reason === 'nmi-ready') {
        assert.equal(e.exitState.intWindowExiting || e.exitState.nmiWindowExiting, false, `${e.reason}: the request is cleared in exitState`);
        const intr = cpu.getState(State.INTR).intr!;
        assert.equal(intr.intWindowExiting || intr.nmiWindowExiting, false, `${e.reason}: the request is cleared in getState`);
        return e.reason;
      }
      if (e.reason === 'halted') return e.reason;
      throw new Error(`${backend}: unexpected exit ${describeExit(e)}`);
    };
    body(cpu, next);
  } finally {
    hv.close();
  }
}

/** Runs to the HLT, at most 10 exits (a window exit that repeats never gets there). */
function runToHalt(next: () => Step): Step[] {
  const steps: Step[] = [];
  for (let n = 0; n < 10; n++) {
    const s = next();
    steps.push(s);
    if (s === 'halted') return steps;
  }
  assert.fail(`no HLT after 10 exits: ${steps.join(' ')}`);
}

for (const backend of BACKEND_NAMES) {
  const skip = backendSkip(backend, 'window-exit conformance');

  test(`${backend}: int-ready is one-shot (reported once when STI opens the window, then cleared)`, { skip }, () => {
    withGuest(backend, (cpu, next) => {
      assert.equal(next(), 'io:30');
      cpu.setState({ intr: { intWindowExiting: true } }, State.INTR);
      const steps = runToHalt(next);
      assert.equal(steps.filter((s) => s === 'int-ready').length, 1, steps.join(' '));
      // Never before STI and its shadow; hosts that notice the window late report it after 0x31.
      assert.ok(['int-ready io:31', 'io:31 int-ready'].includes(steps.slice(0, 2).join(' ')), steps.join(' '));
    });
  });

  test(`${backend}: a window already open when requested is reported before the guest runs on`, { skip }, () => {
    withGuest(backend, (cpu, next) => {
      assert.equal(next(), 'io:30');
      assert.equal(next(), 'io:31');
      cpu.setState({ intr: { intWindowExiting: true } }, State.INTR);
      assert.equal(next(), 'int-ready');
      assert.equal(cpu.getState(State.GPRS).gprs!.rip, BigInt(LOAD + 7), 'RIP at the OUT after the 0x31 marker');
      assert.deepEqual(runToHalt(next), ['io:32', 'io:33', 'halted']);
    });
  });

  test(`${backend}: nmi-ready is one-shot`, { skip }, () => {
    withGuest(backend, (cpu, next) => {
      cpu.setState({ intr: { nmiWindowExiting: true } }, State.INTR);
      assert.deepEqual(runToHalt(next), ['nmi-ready', 'io:30', 'io:31', 'io:32', 'io:33', 'halted']);
    });
  });
}

for (const backend of BACKEND_NAMES) {
  test(`${backend}: with an interrupt held and a window requested, int-ready comes before the interrupt is taken`, { skip: backendSkip(backend, 'window-exit conformance') }, () => {
    withGuest(backend, (cpu, next) => {
      assert.equal(next(), 'io:30');
      cpu.inject({ type: 'interrupt', vector: 0x40 });
      cpu.setState({ intr: { intWindowExiting: true } }, State.INTR);
      const steps = runToHalt(next);
      assert.equal(steps.filter((s) => s === 'int-ready').length, 1, steps.join(' '));
      assert.equal(steps.filter((s) => s === 'io:40').length, 1, steps.join(' '));
      assert.ok(steps.indexOf('int-ready') < steps.indexOf('io:40'), steps.join(' '));
    });
  });
}
