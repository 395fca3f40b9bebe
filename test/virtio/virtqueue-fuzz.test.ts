/**
 * Seeded fuzzing of the virtqueue from a malicious guest: random descriptor tables, indirect
 * tables, ring contents, indices, lengths, flags and features, notified over and over, against
 * the echo, entropy and block devices. Required: notify never throws, each notify does bounded
 * work (guest-memory accesses and chains served are capped by the queue size), no chain holds
 * more segments than the walk allows, and a device that found an error is in NEEDS_RESET with a
 * reason. A second test fuzzes the transport's registers through the PCI window. The seed prints
 * on failure (TSVISOR_SEED=<seed> reruns it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrayGuestMemory, type GuestMemory } from '../../src/vmm/bus/guest-memory.js';
import { VirtioBlk } from '../../src/vmm/devices/virtio/blk.js';
import type { VirtioDeviceModel } from '../../src/vmm/devices/virtio/device-model.js';
import { VirtioRng } from '../../src/vmm/devices/virtio/rng.js';
import { VirtioCore } from '../../src/vmm/devices/virtio/virtio-core.js';
import { VIRTQ_MAX_INDIRECT } from '../../src/vmm/devices/virtio/constants.js';
import { Rng, testSeed } from '../exec/rng.js';
import { EchoModel } from './echo-model.js';
import { TestMachine, WINDOW } from './guest-driver.js';

const ROUNDS = Number(process.env.TSVISOR_VIRTQ_FUZZ ?? 3000);
const RAM = 0x10000;

/** Guest memory that counts accesses: the measure of work a notify did. */
class CountingMemory implements GuestMemory {
  views = 0;
  constructor(private readonly inner: GuestMemory) {}
  view(gpa: number, length: number): Uint8Array {
    this.views++;
    return this.inner.view(gpa, length);
  }
}

class Guest {
  readonly bytes = new Uint8Array(RAM);
  readonly dv = new DataView(this.bytes.buffer);
  constructor(readonly rng: Rng) {}

  /** An address: mostly inside RAM, sometimes at its edge, beyond it, or absurd. */
  address(): number {
    switch (this.rng.int(10)) {
      case 0: return RAM - this.rng.int(32);
      case 1: return this.rng.pick([0xffffffff, 2 ** 40, 2 ** 60, RAM]);
      case 2: return Number(this.rng.u32());
      default: return this.rng.int(RAM);
    }
  }

  length(): number {
    switch (this.rng.int(8)) {
      case 0: return 0;
      case 1: return this.rng.pick([0xffffffff, 0x80000000, RAM, 17]);
      case 2: return 16 * (1 + this.rng.int(VIRTQ_MAX_INDIRECT + 4));
      default: return this.rng.int(600);
    }
  }

  descriptor(at: number, size: number): void {
    if (at < 0 || at + 16 > RAM) return;
    const a = this.address();
    this.dv.setUint32(at, a % 0x100000000, true);
    this.dv.setUint32(at + 4, Math.floor(a / 0x100000000) % 0x100000000, true);
    this.dv.setUint32(at + 8, this.length(), true);
    this.dv.setUint16(at + 12, this.rng.int(3) === 0 ? this.rng.int(0x10000) : this.rng.int(8), true);
    this.dv.setUint16(at + 14, this.rng.int(6) === 0 ? this.rng.int(0x10000) : this.rng.int(size), true);
  }

  /**
   * A well-formed chain of up to 4 descriptors starting at head (readable first, then writable,
   * buffers in the data area at 0x8000, a block-request-like header in the first), so that
   * rounds mix valid work with the corruption around it.
   */
  wellFormed(table: number, head: number, size: number): void {
    const count = Math.min(size, 1 + this.rng.int(4));
    const writableFrom = this.rng.int(count + 1);
    for (let k = 0; k < count; k++) {
      const i = (head + k) % size, at = table + 16 * i;
      const buf = 0x8000 + this.rng.int(0x7000), len = k === 0 ? 16 : k === count - 1 ? 1 : 512 * this.rng.int(3);
      this.dv.setBigUint64(at, BigInt(buf), true);
      this.dv.setUint32(at + 8, len, true);
      this.dv.setUint16(at + 12, (k + 1 < count ? 1 : 0) | (k >= writableFrom ? 2 : 0), true);
      this.dv.setUint16(at + 14, (head + k + 1) % size, true);
      if (k === 0) {
        this.dv.setUint32(buf, this.rng.pick([0, 1, 4, 8, 11, this.rng.int(0x10000)]), true);
        this.dv.setBigUint64(buf + 8, BigInt(this.rng.int(4) ? this.rng.int(70) : Number(this.rng.u32())), true);
      }
    }
  }

  scribble(at: number, length: number): void {
    for (let i = 0; i < length && at + i < RAM; i++) this.bytes[at + i] = this.rng.int(256);
  }
}

function fuzzModel(name: string, make: () => VirtioDeviceModel): void {
  test(`malicious virtqueues never escape the documented handling (${name})`, () => {
    const seed = testSeed();
    const rng = new Rng(seed);
    const guest = new Guest(rng);
    const mem = new CountingMemory(new ArrayGuestMemory(guest.bytes));
    const model = make();
    let irqs = 0, resets = 0;
    const core = new VirtioCore(model, mem, { queue: () => { irqs++; }, config: () => { irqs++; }, reset: () => {} });
    const setup = (): void => {
      core.writeStatus(0);
      const q = core.queues[0]!;
      q.size = 1 << rng.int(Math.log2(q.maxSize) + 1);
      q.descAddr = 0x1000;
      q.driverAddr = 0x3000;
      q.deviceAddr = 0x4000;
      core.driverFeatures = (1n << 32n) | (rng.int(2) ? 1n << 28n : 0n) | (rng.int(2) ? 1n << 29n : 0n);
      core.writeStatus(1 | 2 | 8);
      core.enableQueue(q);
      core.writeStatus(1 | 2 | 8 | 4);
    };
    setup();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const q = core.queues[0]!;
        const n = q.size;
        // Rewrite some descriptors, maybe an indirect table, ring entries and the index.
        const ahead = rng.int(8) === 0 ? rng.int(0x10000) : rng.int(Math.min(n, 4) + 1);
        for (let k = 0; k < Math.min(ahead, n); k++) {
          const head = rng.int(n);
          guest.dv.setUint16(0x3004 + 2 * ((q.lastAvail + k) % n), head, true);
          guest.wellFormed(0x1000, head, n);
        }
        if (rng.int(4) === 0) for (let k = 1 + rng.int(3); k > 0; k--) guest.descriptor(0x1000 + 16 * rng.int(n), n);
        if (rng.int(6) === 0) for (let k = 0; k < 8; k++) guest.descriptor(rng.int(RAM >> 4) << 4, 8);
        if (rng.int(6) === 0) guest.dv.setUint16(0x3004 + 2 * rng.int(n), rng.int(0x10000), true);
        guest.dv.setUint16(0x3002, (q.lastAvail + ahead) & 0xffff, true);
        if (rng.int(10) === 0) guest.scribble(0x3000, 6 + 2 * n);
        if (rng.int(20) === 0) guest.scribble(0x4000, 16);
        if (rng.int(6) === 0) guest.scribble(rng.int(RAM), 64);

        const viewsBefore = mem.views, servedBefore = core.served;
        const chainsBefore = model instanceof EchoModel ? model.chains.length : 0;
        core.notify(0);
        const served = core.served - servedBefore;
        assert.ok(served <= n, `seed ${seed} round ${round}: ${served} chains served from a ${n}-entry queue`);
        const bound = (served + 1) * ((n + VIRTQ_MAX_INDIRECT) * 8 + 32) + 16;
        assert.ok(mem.views - viewsBefore <= bound, `seed ${seed} round ${round}: ${mem.views - viewsBefore} guest accesses for one notify (bound ${bound})`);
        if (model instanceof EchoModel) {
          for (const c of model.chains.slice(chainsBefore)) {
            assert.ok(c.readable.length + c.writable.length <= n + VIRTQ_MAX_INDIRECT, `seed ${seed}: chain of ${c.readable.length + c.writable.length} segments`);
          }
          model.chains.length = model.payloads.length = 0;
        }
        if (core.status & 0x40) {
          assert.ok(core.lastError.length > 0, `seed ${seed}: NEEDS_RESET without a reason`);
          resets++;
          setup();
        }
      }
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.fail(`seed ${seed}: notify threw ${String(e)}`);
    }
    console.log(`# virtqueue fuzz (${name}, seed ${seed}): ${core.served} chains served, ${resets} resets, ${irqs} interrupts`);
    // The fuzzer must reach both outcomes, or it is not testing what it claims.
    assert.ok(resets > 0 && core.served + resets > ROUNDS / 10, `seed ${seed}: ${core.served} served, ${resets} resets, ${irqs} interrupts`);
  });
}

fuzzModel('echo', () => new EchoModel([16]));
fuzzModel('entropy', () => new VirtioRng());
fuzzModel('block', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'virtq-fuzz-')), 'disk.img');
  writeFileSync(path, new Uint8Array(64 * 512));
  return new VirtioBlk({ path });
});

test('random register writes to a live virtio function: no exception, ever', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const m = new TestMachine(new VirtioRng());
  const [q] = m.init({ useMsix: rng.int(2) === 1 });
  const regs = m.dev.barAddress(4);
  try {
    for (let i = 0; i < ROUNDS * 3; i++) {
      const size = rng.pick([1, 2, 4, 8] as const);
      const block = rng.pick([0, 0, 0x1000, 0x2000, 0x3000]);
      const off = rng.int(4) === 0 ? rng.int(0x4000) : block + rng.int(0x40);
      const data = new Uint8Array(size).map(() => (rng.int(3) === 0 ? rng.pick([0, 1, 0xff]) : rng.int(256)));
      if (rng.int(10) === 0) m.cfg.write(m.slot, 0, rng.int(64) * 4, 4, Number(rng.u32()));
      else if (rng.int(4) === 0) m.window.read(regs - WINDOW.base + off, data);
      else m.window.write(regs - WINDOW.base + off, data);
      if (rng.int(8) === 0) {
        q!.add([{ gpa: m.ram.alloc(8), len: 8, write: true }]);
        m.kick(q!);
      }
    }
  } catch (e) {
    assert.fail(`seed ${seed}: ${String(e)}`);
  }
});
