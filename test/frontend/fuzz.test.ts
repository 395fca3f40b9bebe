// Seeded fuzz of every frontend entry point with arbitrary values: each call either succeeds or
// throws VmmError, never anything else, and whatever reached the (fake) backend was valid.
// Reproduce a failure with FUZZ_SEED=<seed printed below>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hypervisor, SEG_NAMES, VmmError, stopVcpu } from '../../src/index.js';
import { effectiveChoice } from '../../src/frontend/backend-select.js';
import { fakeBackend, useTempRundir } from './fake-backend.js';
import type { FakeBackend } from './fake-backend.js';

useTempRundir();

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
console.log(`# frontend fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);
const RUNS = 300;

/** Calls fn; fine if it returns or throws VmmError, a failure if it throws anything else. */
function onlyVmmErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof VmmError)) throw new Error(`threw a non-VmmError: ${String(e)}`);
    assert.match(e.message, /^E[A-Z0-9]+: \S/, 'message starts with the code and says something');
  }
}

const anything = fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true, maxDepth: 3 });
/** Numbers and bigints near the interesting edges, plus garbage. */
const edgy = fc.oneof(
  fc.integer({ min: -5, max: 5 }), fc.constantFrom(4095, 4096, 0x1000 * 3, 0xffff, 0x10000, 2 ** 32, 2 ** 52, 2 ** 53, -0, NaN, Infinity, 1.5),
  fc.bigInt({ min: -2n, max: (1n << 65n) }), fc.boolean(), anything,
);
const segment = fc.record({
  selector: edgy, base: edgy, limit: edgy, type: edgy, s: edgy, dpl: edgy, p: edgy, avl: edgy, l: edgy, def: edgy, g: edgy,
}, { requiredKeys: [] });
const state = fc.record({
  gprs: fc.dictionary(fc.constantFrom('rax', 'rbx', 'rip', 'rflags', 'r15', 'eax'), edgy),
  segs: fc.dictionary(fc.constantFrom(...SEG_NAMES, 'xs'), segment),
  crs: fc.dictionary(fc.constantFrom('cr0', 'cr3', 'cr8', 'xcr0', 'cr1'), edgy),
  intr: fc.dictionary(fc.constantFrom('intShadow', 'evtPending', 'nmi'), edgy),
  fpu: fc.dictionary(fc.constantFrom('fcw', 'mxcsr', 'st', 'xmm'), fc.oneof(edgy, fc.array(fc.uint8Array({ minLength: 8, maxLength: 17 }), { maxLength: 17 }))),
}, { requiredKeys: [] });
const event = fc.oneof(
  fc.record({ type: fc.constantFrom('exception', 'interrupt', 'nmi', 'smi'), vector: edgy, errorCode: edgy }, { requiredKeys: ['type'] }),
  anything,
);

function setup(): { fb: FakeBackend; hv: Hypervisor } {
  const fb = fakeBackend();
  return { fb, hv: Hypervisor.fromBackend(fb) };
}

/** Every map the backend saw was aligned, in bounds and non-overlapping. */
function checkBackendMaps(fb: FakeBackend): void {
  for (const [, , gpa, mem, off, size] of fb.named('machine.map') as [string, number, number, { size: number }, number, number][]) {
    assert.ok(gpa % 4096 === 0 && off % 4096 === 0 && size % 4096 === 0 && size > 0, `backend map ${gpa} ${off} ${size}`);
    assert.ok(off + size <= mem.size, 'backend map in bounds');
  }
}

test('machine calls with arbitrary arguments', () => {
  const { fb, hv } = setup();
  const m = hv.createMachine();
  const ram = m.allocate(0x8000);
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.constantFrom('map', 'mapOwn', 'unmap', 'gpaToHost', 'createVcpu', 'allocate'), edgy, edgy, fc.oneof(anything, fc.record({ offset: edgy, size: edgy, prot: fc.oneof(fc.constantFrom('r', 'rw', 'rx', 'rwx'), anything) }, { requiredKeys: [] }))), { maxLength: 8 }),
    (calls) => {
      for (const [op, a, b, c] of calls) {
        onlyVmmErrors(() => {
          switch (op) {
            case 'map': return m.map(a as number, b as typeof ram, c as object);
            case 'mapOwn': return m.map(a as number, ram, c as object);
            case 'unmap': return m.unmap(a as number, b as number);
            case 'gpaToHost': return m.gpaToHost(a as number);
            case 'createVcpu': return m.createVcpu(a as number);
            case 'allocate': return m.allocate(a as number);
          }
        });
      }
      // the GPA map stays sorted and non-overlapping whatever happened
      const ranges = m.mappings();
      for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1]!.gpa + ranges[i - 1]!.size <= ranges[i]!.gpa, 'mappings overlap');
    },
  ), { seed: SEED, numRuns: RUNS });
  checkBackendMaps(fb);
  hv.close();
});

const exitState = { rflags: 2n, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false };
const exitLike = fc.oneof(
  fc.record({ reason: fc.constant('io'), port: edgy, in: edgy, size: edgy, data: fc.oneof(fc.uint8Array({ maxLength: 8 }), anything), rep: edgy, str: edgy, npc: edgy, exitState: fc.constant(exitState) }, { requiredKeys: ['reason'] }),
  fc.record({ reason: fc.constant('memory'), gpa: edgy, write: edgy, size: edgy, instBytes: fc.oneof(fc.uint8Array({ maxLength: 15 }), anything), data: anything, exitState: fc.constant(exitState) }, { requiredKeys: ['reason'] }),
  anything,
);

test('assists with arbitrary exit objects', () => {
  const { fb, hv } = setup();
  const cpu = hv.createMachine().createVcpu(0);
  fb.vcpuState = { gprs: { rax: 0n, rcx: 1n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, rsi: 0n, rdi: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0n, rflags: 2n } };
  fc.assert(fc.property(exitLike, (exit) => {
    onlyVmmErrors(() => cpu.assistIo(exit as never, (req) => { req.data.fill(0x5a); }));
    onlyVmmErrors(() => cpu.assistMem(exit as never, (req) => { req.data.fill(0x5a); }));
  }), { seed: SEED, numRuns: RUNS });
  hv.close();
});

test('vCPU calls with arbitrary arguments', () => {
  const { hv } = setup();
  const cpu = hv.createMachine().createVcpu(0);
  fc.assert(fc.property(state, fc.oneof(fc.constant(undefined), edgy), event, edgy, anything, (s, flags, e, leaf, conf) => {
    onlyVmmErrors(() => cpu.setState(s as never, flags as number));
    onlyVmmErrors(() => cpu.getState(flags as number));
    onlyVmmErrors(() => cpu.inject(e as never));
    onlyVmmErrors(() => cpu.configureCpuid(leaf as number, conf as never));
    onlyVmmErrors(() => cpu.configureTpr(conf as never));
    onlyVmmErrors(() => cpu.gvaToGpa(leaf as number));
    onlyVmmErrors(() => stopVcpu(conf as never));
    onlyVmmErrors(() => cpu.assistIo(conf as never, () => {}));
    onlyVmmErrors(() => cpu.assistMem(conf as never, () => {}));
    // option parsing without opening a real backend
    onlyVmmErrors(() => effectiveChoice(conf, { TSVISOR_BACKEND: typeof leaf === 'string' ? leaf : undefined }));
  }), { seed: SEED, numRuns: RUNS });
  hv.close();
});
