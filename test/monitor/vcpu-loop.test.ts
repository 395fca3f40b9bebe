/**
 * core's VcpuLoop against a scripted vCPU (each run() returns the next exit of a list, every call
 * is logged): exceptions a source asks for go in only while the vCPU holds no event, and the
 * afterExit hook sees every exit before it is handled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitState, VcpuEvent, VcpuStateInput, VmExit } from '../../src/api/types.js';
import type { Vcpu } from '../../src/frontend/index.js';
import type { DeadlineTimer } from '../../src/vmm/core/deadline-timer.js';
import type { MsrSpace } from '../../src/vmm/core/msr-space.js';
import { InstructionTimeBase, type TimeBase } from '../../src/vmm/core/time-base.js';
import { VcpuLoop, interruptWindowOpen, type InterruptSource, type LoopPlatform, type VcpuLoopHooks } from '../../src/vmm/core/vcpu-loop.js';

const IF = 0x200n;
const state = (over: Partial<ExitState> = {}): ExitState => ({
  rflags: 0x2n | IF, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false, ...over,
});

class ScriptedVcpu {
  readonly log: string[] = [];
  constructor(private readonly exits: VmExit[]) {}
  /** The limit each run() got (undefined: none). */
  readonly limits: (number | undefined)[] = [];
  run(limit?: { maxInstructions: number }): VmExit {
    const exit = this.exits.shift();
    if (exit === undefined) throw new Error(`the script ran out of exits; log: ${this.log.join(', ')}`);
    this.log.push(`run: ${exit.reason}`);
    this.limits.push(limit?.maxInstructions);
    return exit;
  }
  inject(e: VcpuEvent): void {
    this.log.push(e.type === 'exception' ? `inject #${e.vector}` : e.type === 'interrupt' ? `inject interrupt ${e.vector}` : 'inject nmi');
  }
  setState(s: VcpuStateInput): void {
    if (s.intr?.intWindowExiting !== undefined) this.log.push(`window ${s.intr.intWindowExiting}`);
    if (s.gprs?.rip !== undefined) this.log.push(`rip ${s.gprs.rip}`);
  }
  getState(): { gprs: { rip: bigint } } {
    return { gprs: { rip: 0x1000n } };
  }
}

function loop(cpu: ScriptedVcpu, interrupts: InterruptSource, hooks: VcpuLoopHooks = {}, msrs: MsrSpace = { read: () => undefined, write: () => false }): VcpuLoop {
  const platform: LoopPlatform = { bus: { routeIo: () => false, routeMem: () => false }, poll: () => Infinity, power: undefined };
  const time: TimeBase = { now: () => 0, afterExit: () => {}, hostDeadline: (ns) => ns, idle: () => {} };
  const timer = { arm: () => {} } as unknown as DeadlineTimer;
  return new VcpuLoop(cpu as unknown as Vcpu, platform, interrupts, timer, time, msrs, hooks);
}

/** A source with one #GP to give, logging when it is asked. */
function oneGp(log: string[]): InterruptSource {
  let left = 1;
  return {
    takeException: () => {
      log.push('asked for an exception');
      return left-- > 0 ? { type: 'exception', vector: 13, errorCode: 0 } : undefined;
    },
    takeNmi: () => false,
    pending: () => false,
    take: () => undefined,
  };
}

test('an exception from the source waits while the vCPU holds an event, and while the loop just injected #GP for an MSR', () => {
  const cpu = new ScriptedVcpu([
    { reason: 'stopped', exitState: state({ evtPending: true }) },
    { reason: 'rdmsr', msr: 0x1234, npc: 0x1002n, exitState: state() },
    { reason: 'stopped', exitState: state() },
    { reason: 'shutdown', exitState: state() },
  ]);
  const end = loop(cpu, oneGp(cpu.log)).run();
  assert.deepEqual(end, { kind: 'triple-fault', rip: 0x1000n });
  assert.deepEqual(cpu.log, [
    'asked for an exception', 'inject #13', // before the first run nothing is held
    'run: stopped', // evtPending: not asked
    'run: rdmsr', 'inject #13', // the MSR's #GP: not asked in the same round
    'run: stopped', 'asked for an exception',
    'run: shutdown',
  ]);
});

test('the afterExit hook sees every exit before the loop handles it', () => {
  const cpu = new ScriptedVcpu([
    { reason: 'rdmsr', msr: 0x1b, npc: 0x1002n, exitState: state() },
    { reason: 'shutdown', exitState: state() },
  ]);
  const msrs: MsrSpace = { read: () => 0xfee00900n, write: () => false };
  loop(cpu, { takeNmi: () => false, pending: () => false, take: () => undefined }, { afterExit: (exit) => cpu.log.push(`saw ${exit.reason}`) }, msrs).run();
  assert.deepEqual(cpu.log, ['run: rdmsr', 'saw rdmsr', 'rip 4098', 'run: shutdown', 'saw shutdown']);
});

test('the enteringGuest hook runs right before every run, after the devices and the injection', () => {
  const cpu = new ScriptedVcpu([
    { reason: 'rdmsr', msr: 0x1b, npc: 0x1002n, exitState: state() },
    { reason: 'shutdown', exitState: state() },
  ]);
  const msrs: MsrSpace = { read: () => 0xfee00900n, write: () => false };
  loop(cpu, oneGp(cpu.log), { beforeRun: () => cpu.log.push('devices'), enteringGuest: () => cpu.log.push('entering') }, msrs).run();
  assert.deepEqual(cpu.log, [
    'devices', 'asked for an exception', 'inject #13', 'entering', 'run: rdmsr', 'rip 4098',
    'devices', 'asked for an exception', 'entering', 'run: shutdown',
  ]);
});

test('the interrupt window is open with IF set and no STI/MOV SS shadow', () => {
  assert.equal(interruptWindowOpen(state()), true);
  assert.equal(interruptWindowOpen(state({ rflags: 0x2n })), false);
  assert.equal(interruptWindowOpen(state({ intShadow: true })), false);
});

test('a halt with IF clear waits for time to pass even with an interrupt pending; with IF set it does not', () => {
  for (const rflags of [0x2n, 0x2n | IF]) {
    const cpu = new ScriptedVcpu([
      { reason: 'halted', exitState: state({ rflags }) },
      { reason: 'shutdown', exitState: state() },
    ]);
    let idled = 0;
    const platform: LoopPlatform = { bus: { routeIo: () => false, routeMem: () => false }, poll: () => Infinity, power: undefined };
    const time: TimeBase = { now: () => 0, afterExit: () => {}, hostDeadline: (ns) => ns, idle: () => { idled++; } };
    const interrupts: InterruptSource = { takeNmi: () => false, pending: () => true, take: () => undefined };
    new VcpuLoop(cpu as unknown as Vcpu, platform, interrupts, { arm: () => {} } as unknown as DeadlineTimer, time,
      { read: () => undefined, write: () => false }).run();
    assert.equal(idled, rflags & IF ? 0 : 1, `rflags ${rflags}`);
  }
});

test('where guest time is instructions retired, each run stops at the next device deadline and no host timer is armed', () => {
  for (const counted of [true, false]) {
    const cpu = new ScriptedVcpu([
      { reason: 'stopped', exitState: state() },
      { reason: 'stopped', exitState: state() },
      { reason: 'shutdown', exitState: state() },
    ]);
    const deadlines = [5000, Infinity, 7000];
    const armed: number[] = [];
    const platform: LoopPlatform = { bus: { routeIo: () => false, routeMem: () => false }, poll: () => deadlines.shift()!, power: undefined };
    const time: TimeBase = { now: () => 1000, afterExit: () => {}, hostDeadline: (ns) => ns + 0.5, idle: () => {} };
    if (counted) time.instructionBudget = (ns) => (Number.isFinite(ns) ? ns - 1000 : undefined);
    const timer = { arm: (ns: number) => { armed.push(ns); } } as unknown as DeadlineTimer;
    new VcpuLoop(cpu as unknown as Vcpu, platform, { takeNmi: () => false, pending: () => false, take: () => undefined }, timer, time,
      { read: () => undefined, write: () => false }).run();
    if (counted) {
      assert.deepEqual(cpu.limits, [4000, undefined, 6000]);
      assert.deepEqual(armed, [Infinity, Infinity, Infinity]);
    } else {
      assert.deepEqual(cpu.limits, [undefined, undefined, undefined]);
      assert.deepEqual(armed, [5000.5, Infinity, 7000.5]);
    }
  }
});

test('InstructionTimeBase: the budget is the instructions up to the deadline, rounded up, at least one', () => {
  let tscNow = 1_000n;
  const cpu = { getState: () => ({ msrs: { tsc: tscNow } }), setState: () => {} } as unknown as Vcpu;
  const time = new InstructionTimeBase(cpu);
  tscNow = 1_250n;
  time.afterExit();
  assert.equal(time.now(), 250);
  assert.equal(time.instructionBudget(1250), 1000);
  assert.equal(time.instructionBudget(250.2), 1, 'a fraction of an instruction away: one');
  assert.equal(time.instructionBudget(251.5), 2);
  assert.equal(time.instructionBudget(100), 1, 'a deadline already passed: one');
  assert.equal(time.instructionBudget(Infinity), undefined);
  assert.equal(time.instructionBudget(1e300), Number.MAX_SAFE_INTEGER, 'a deadline beyond what run() takes: the most it takes');
});
