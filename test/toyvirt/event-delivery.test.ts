/**
 * toyvirt's EventDelivery between a queue of event-thread requests and what core's vCPU loop asks
 * of it: the requests in order, one at a time and none while the backend holds an event, a
 * hardware interrupt held while IF is clear and taken at the window, dropped while CR8 blocks it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitState, VmExit } from '../../src/api/types.js';
import { EventDelivery, VECTOR_TOYVIRT_INTERRUPT } from '../../src/vmm/event-delivery.js';
import type { EventKind } from '../../src/vmm/event-requests.js';
import type { EventThread } from '../../src/vmm/event-thread.js';

/** The vCPU loop's side of the event thread, with the requests already posted. */
class PostedRequests {
  readonly cr8s: bigint[] = [];
  readonly waits: number[] = [];
  constructor(readonly queue: EventKind[]) {}
  noteCr8(cr8: bigint): void { this.cr8s.push(cr8); }
  waiting(): boolean { return this.queue.length > 0; }
  take(): EventKind | undefined { return this.queue.shift(); }
  waitForNextPost(ms: number): void { this.waits.push(ms); }
}

const IF = 0x200n;
const exitWith = (reason: 'stopped' | 'halted' | 'int-ready', over: Partial<ExitState> = {}): VmExit => ({
  reason, exitState: { rflags: 0x2n | IF, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false, ...over },
});

function rig(queue: EventKind[]) {
  const events = new PostedRequests(queue);
  const said: string[] = [];
  const delivery = new EventDelivery(events as unknown as EventThread, (line) => said.push(line));
  return { events, said, delivery };
}

test('#GP and NMI requests go in one at a time, in order, none while the backend holds an event; CR8 reaches the event thread', () => {
  const { events, said, delivery } = rig(['gp', 'nmi']);
  delivery.observe(exitWith('stopped', { evtPending: true, cr8: 3n }));
  assert.equal(delivery.takeException(), undefined, 'an event is still held');
  assert.equal(delivery.takeNmi(), false);
  assert.deepEqual(events.queue, ['gp', 'nmi'], 'nothing taken from the event thread');
  delivery.observe(exitWith('stopped'));
  assert.equal(delivery.takeNmi(), false, 'the #GP comes first');
  assert.deepEqual(delivery.takeException(), { type: 'exception', vector: 13, errorCode: 0 });
  assert.equal(delivery.takeException(), undefined);
  assert.equal(delivery.takeNmi(), true);
  assert.equal(delivery.takeNmi(), false);
  assert.deepEqual(said, ['Inject #GP event', 'Inject NMI event']);
  assert.deepEqual(events.cr8s, [3n, 0n]);
});

test('an interrupt the guest cannot take is held until its window opens, then injected', () => {
  const { said, delivery } = rig(['interrupt', 'gp']);
  delivery.observe(exitWith('halted', { rflags: 0x2n }));
  assert.equal(delivery.holdsInterrupt(), true);
  assert.deepEqual(said, ['Hardware interrupt held: the guest has interrupts disabled, waiting for int-ready']);
  delivery.observe(exitWith('halted', { rflags: 0x2n, intWindowExiting: true }));
  assert.equal(delivery.holdsInterrupt(), false, 'nothing to do before int-ready: the halted guest may wait');
  assert.equal(delivery.holding, true);
  assert.ok(delivery.takeException(), 'other requests go on while an interrupt is held');
  delivery.observe(exitWith('int-ready'));
  assert.equal(delivery.holding, true);
  assert.equal(delivery.takeInterrupt(), VECTOR_TOYVIRT_INTERRUPT);
  assert.equal(delivery.holdsInterrupt(), false);
  assert.deepEqual(said.slice(1), ['Inject #GP event', 'Machine ready to INT/NMI', 'Inject hardware interrupt event']);
});

test('with the window open an interrupt goes in without a word about holding it; CR8 15 and a second interrupt drop one', () => {
  const open = rig(['interrupt']);
  open.delivery.observe(exitWith('halted'));
  assert.equal(open.delivery.holdsInterrupt(), true);
  assert.equal(open.delivery.takeInterrupt(), VECTOR_TOYVIRT_INTERRUPT);
  assert.deepEqual(open.said, ['Inject hardware interrupt event']);

  const blocked = rig(['interrupt']);
  blocked.delivery.observe(exitWith('stopped', { cr8: 15n }));
  assert.equal(blocked.delivery.holdsInterrupt(), false);
  assert.deepEqual(blocked.said, ['Hardware interrupt not injected: the guest raised CR8 to 15']);

  const twice = rig(['interrupt', 'interrupt']);
  twice.delivery.observe(exitWith('halted', { rflags: 0x2n }));
  assert.equal(twice.delivery.holdsInterrupt(), true);
  assert.equal(twice.delivery.holdsInterrupt(), true);
  assert.deepEqual(twice.said.slice(1), ['Hardware interrupt not injected: one is already waiting for the guest']);
  // CR8 raised while it waited for the window: dropped at the INTA cycle.
  twice.delivery.observe(exitWith('int-ready', { cr8: 15n }));
  assert.equal(twice.delivery.takeInterrupt(), undefined);
  assert.equal(twice.said.at(-1), 'Hardware interrupt not injected: the guest raised CR8 to 15');
});

test('a halted guest waits for the event thread only when no request is there for it', () => {
  const { events, delivery } = rig(['gp']);
  delivery.observe(exitWith('halted'));
  delivery.waitForRequest(250);
  assert.deepEqual(events.waits, [], 'a request is waiting');
  delivery.takeNmi(); // takes the #GP from the event thread without handing it out
  delivery.waitForRequest(250);
  assert.deepEqual(events.waits, [], 'the taken request is still to go in');
  delivery.takeException();
  delivery.waitForRequest(250);
  assert.deepEqual(events.waits, [250]);
});
