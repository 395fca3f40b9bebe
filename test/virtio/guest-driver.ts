/**
 * A test "guest": guest RAM in a Uint8Array, a PCI bus with a virtio function, and a driver that
 * does what Linux's virtio_pci_modern + virtio_ring do, through the same registers: configuration
 * space through ports 0xCF8/0xCFC, the BARs through the host bridge's memory window, rings built
 * by hand in guest memory.
 */
import assert from 'node:assert/strict';
import { ArrayGuestMemory } from '../../src/vmm/bus/guest-memory.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { PciBus } from '../../src/vmm/bus/pci/pci-bus.js';
import { assignPciResources } from '../../src/vmm/bus/pci/resource-assignment.js';
import type { MmioDevice } from '../../src/vmm/devices/device.js';
import type { VirtioDeviceModel } from '../../src/vmm/devices/virtio/device-model.js';
import { VirtioPciFunction } from '../../src/vmm/devices/virtio/pci-transport.js';
import { ConfigIo, bytes, le } from '../pci/config-io.js';
import { RecordingSink } from '../pci/fixtures.js';

export const RAM_SIZE = 4 << 20;
export const WINDOW = { base: 0xc0000000, size: 0x1000000 };
export const STATUS = { ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 0x40 } as const;

export interface Buffer { gpa: number; len: number; write?: boolean }

/** Little-endian helpers over guest RAM. */
export class Ram {
  readonly bytes = new Uint8Array(RAM_SIZE);
  readonly view = new DataView(this.bytes.buffer);
  readonly mem = new ArrayGuestMemory(this.bytes);
  private next = 0x100000;
  /** Bump allocation, aligned. */
  alloc(size: number, align = 16): number {
    const at = Math.ceil(this.next / align) * align;
    if (at + size > RAM_SIZE) throw new Error('test RAM exhausted');
    this.next = at + size;
    return at;
  }
  u16(at: number): number { return this.view.getUint16(at, true); }
  u32(at: number): number { return this.view.getUint32(at, true); }
  set16(at: number, v: number): void { this.view.setUint16(at, v, true); }
  set32(at: number, v: number): void { this.view.setUint32(at, v, true); }
  set64(at: number, v: number): void { this.view.setBigUint64(at, BigInt(v), true); }
}

/** One split virtqueue as the driver owns it. */
export class DriverQueue {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  availIdx = 0;
  lastUsed = 0;
  private freeHead = 0;

  constructor(readonly ram: Ram, readonly index: number, readonly size: number) {
    this.desc = ram.alloc(16 * size, 16);
    this.avail = ram.alloc(6 + 2 * size, 2);
    this.used = ram.alloc(6 + 8 * size, 4);
  }

  /** Writes descriptor i. */
  setDesc(i: number, gpa: number, len: number, flags: number, next: number, table = this.desc): void {
    const at = table + 16 * i;
    this.ram.set64(at, gpa);
    this.ram.set32(at + 8, len);
    this.ram.set16(at + 12, flags);
    this.ram.set16(at + 14, next);
  }

  /** Builds a chain of buffers (direct, or through one indirect table) and makes it available. */
  add(buffers: readonly Buffer[], opts: { indirect?: boolean } = {}): number {
    const head = this.freeHead;
    if (opts.indirect) {
      const table = this.ram.alloc(16 * buffers.length, 16);
      buffers.forEach((b, i) => this.setDesc(i, b.gpa, b.len, (i + 1 < buffers.length ? 1 : 0) | (b.write ? 2 : 0), i + 1, table));
      this.setDesc(head, table, 16 * buffers.length, 4, 0);
      this.freeHead = (head + 1) % this.size;
    } else {
      buffers.forEach((b, k) => {
        const i = (head + k) % this.size, next = (head + k + 1) % this.size;
        this.setDesc(i, b.gpa, b.len, (k + 1 < buffers.length ? 1 : 0) | (b.write ? 2 : 0), next);
      });
      this.freeHead = (head + buffers.length) % this.size;
    }
    this.ram.set16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.ram.set16(this.avail + 2, this.availIdx);
    return head;
  }

  /** Used entries the device published since the last call. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.ram.u16(this.used + 2);
    for (; this.lastUsed !== idx; this.lastUsed = (this.lastUsed + 1) & 0xffff) {
      const at = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push({ id: this.ram.u32(at), len: this.ram.u32(at + 4) });
    }
    return out;
  }

  set usedEvent(v: number) { this.ram.set16(this.avail + 4 + 2 * this.size, v); }
  get availEvent(): number { return this.ram.u16(this.used + 4 + 8 * this.size); }
  set availFlags(v: number) { this.ram.set16(this.avail, v); }
}

export interface VirtioCaps { common: number; notify: number; notifyMultiplier: number; isr: number; device: number; pciCfg: number }

/** The machine: RAM, bus, one virtio function, and driver-side register access. */
export class TestMachine {
  readonly ram = new Ram();
  readonly lines = [0, 1, 2, 3].map(() => new RecordingLine());
  readonly sink = new RecordingSink();
  readonly bus = new PciBus({ intx: this.lines });
  readonly cfg = new ConfigIo(this.bus.configPorts());
  readonly window: MmioDevice;
  readonly dev: VirtioPciFunction;
  readonly slot: number;
  caps: VirtioCaps | undefined;

  constructor(model: VirtioDeviceModel) {
    this.dev = new VirtioPciFunction('virtio-test', model, { mem: this.ram.mem, msi: this.sink });
    this.slot = this.bus.add(this.dev);
    assignPciResources(this.bus, { mmio32: WINDOW });
    this.window = this.bus.mmioWindow('pci-mem', WINDOW.base, WINDOW.size);
  }

  get intx(): RecordingLine { return this.lines[this.slot % 4]!; }

  mmioRead(gpa: number, size: number): number {
    const d = new Uint8Array(size);
    this.window.read(gpa - WINDOW.base, d);
    return le(d);
  }

  mmioWrite(gpa: number, size: number, value: number): void {
    this.window.write(gpa - WINDOW.base, bytes(size, value));
  }

  /** virtio_pci_find_capability for each cfg_type, the way the driver locates its blocks. */
  findCaps(): VirtioCaps {
    const found: Partial<VirtioCaps> = {};
    const names = ['', 'common', 'notify', 'isr', 'device', 'pciCfg'] as const;
    for (let p = this.cfg.read(this.slot, 0, 0x34, 1), n = 0; p; p = this.cfg.read(this.slot, 0, p + 1, 1), n++) {
      assert.ok(n < 48, 'capability list loops');
      if (this.cfg.read(this.slot, 0, p, 1) !== 0x09) continue;
      const type = this.cfg.read(this.slot, 0, p + 3, 1), bar = this.cfg.read(this.slot, 0, p + 4, 1);
      const name = names[type];
      if (!name) continue;
      if (name === 'pciCfg') { found.pciCfg = p; continue; }
      const lo = this.cfg.read(this.slot, 0, 0x10 + 4 * bar, 4), hi = this.cfg.read(this.slot, 0, 0x14 + 4 * bar, 4);
      // The caps point at BAR4, a 64-bit memory BAR: address bits in the low dword above the type bits, then the high dword.
      found[name] = hi * 0x100000000 + ((lo & ~0xf) >>> 0) + this.cfg.read(this.slot, 0, p + 8, 4);
      if (name === 'notify') found.notifyMultiplier = this.cfg.read(this.slot, 0, p + 16, 4);
    }
    for (const k of ['common', 'notify', 'isr', 'device', 'pciCfg'] as const) assert.ok(found[k] !== undefined, `capability ${k} missing`);
    this.caps = found as VirtioCaps;
    return this.caps;
  }

  common(off: number, size: number): number { return this.mmioRead(this.caps!.common + off, size); }
  setCommon(off: number, size: number, v: number): void { this.mmioWrite(this.caps!.common + off, size, v); }
  status(): number { return this.common(0x14, 1); }

  /**
   * vp_modern_probe + virtio_dev_probe + vp_find_vqs: reset, ACK, DRIVER, features, FEATURES_OK,
   * MSI-X vectors (when useMsix), queues, DRIVER_OK. Returns the driver's queues.
   */
  init(opts: { features?: bigint; useMsix?: boolean; queueSize?: number } = {}): DriverQueue[] {
    if (!this.caps) this.findCaps();
    this.setCommon(0x14, 1, 0);
    assert.equal(this.status(), 0, 'reset reads back 0');
    this.setCommon(0x14, 1, STATUS.ACK);
    this.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER);
    this.setCommon(0x00, 4, 0);
    const lo = this.common(0x04, 4);
    this.setCommon(0x00, 4, 1);
    const hi = this.common(0x04, 4);
    const offered = (BigInt(hi) << 32n) | BigInt(lo);
    const want = opts.features ?? offered;
    this.setCommon(0x08, 4, 0);
    this.setCommon(0x0c, 4, Number(want & 0xffffffffn));
    this.setCommon(0x08, 4, 1);
    this.setCommon(0x0c, 4, Number(want >> 32n));
    this.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER | STATUS.FEATURES_OK);
    assert.ok(this.status() & STATUS.FEATURES_OK, 'device accepted the features');
    if (opts.useMsix) {
      const ctl = this.dev.msix.capOffset + 2;
      this.cfg.write(this.slot, 0, ctl, 2, 0xc000);
      const table = this.dev.barAddress(1);
      for (let v = 0; v < this.dev.msix.vectors; v++) {
        this.mmioWrite(table + 16 * v, 4, 0xfee00000);
        this.mmioWrite(table + 16 * v + 4, 4, 0);
        this.mmioWrite(table + 16 * v + 8, 4, 0x40 + v);
        this.mmioWrite(table + 16 * v + 12, 4, 0);
      }
      this.cfg.write(this.slot, 0, ctl, 2, 0x8000);
      this.setCommon(0x10, 2, 0);
      assert.equal(this.common(0x10, 2), 0, 'config vector accepted');
    }
    const queues: DriverQueue[] = [];
    const n = this.common(0x12, 2);
    for (let i = 0; i < n; i++) {
      this.setCommon(0x16, 2, i);
      const max = this.common(0x18, 2);
      const size = Math.min(max, opts.queueSize ?? max);
      this.setCommon(0x18, 2, size);
      const q = new DriverQueue(this.ram, i, size);
      if (opts.useMsix) {
        this.setCommon(0x1a, 2, i + 1);
        assert.equal(this.common(0x1a, 2), i + 1, 'queue vector accepted');
      }
      for (const [off, gpa] of [[0x20, q.desc], [0x28, q.avail], [0x30, q.used]] as const) {
        this.setCommon(off, 4, gpa % 0x100000000);
        this.setCommon(off + 4, 4, Math.floor(gpa / 0x100000000));
      }
      this.setCommon(0x1c, 2, 1);
      assert.equal(this.common(0x1c, 2), 1, `queue ${i} enabled`);
      queues.push(q);
    }
    this.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    return queues;
  }

  /** vp_notify: write the queue index at its notify address. */
  kick(q: DriverQueue): void {
    this.setCommon(0x16, 2, q.index);
    const off = this.common(0x1e, 2);
    this.mmioWrite(this.caps!.notify + off * this.caps!.notifyMultiplier, 2, q.index);
  }

  readIsr(): number { return this.mmioRead(this.caps!.isr, 1); }
}
