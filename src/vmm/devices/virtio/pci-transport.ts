/**
 * The virtio 1.x PCI transport, modern only (virtio 4.1): a PCI function with vendor 0x1AF4,
 * device 0x1040 + virtio device ID, revision 1, whose vendor-specific capabilities point the
 * driver at its register blocks, and MSI-X for interrupts (INTx with the ISR when MSI-X is off).
 *
 * Layout (what QEMU uses too, so drivers see nothing unusual):
 *   BAR1 (32-bit memory, 4 KiB): MSI-X table at 0, PBA at 0x800
 *   BAR4 (64-bit memory, 16 KiB): common configuration 0x0000, ISR 0x1000, device configuration
 *        0x2000, notifications 0x3000 (queue N at N * 4: notify_off_multiplier 4, queue_notify_off N)
 * plus the PCI configuration access capability (VIRTIO_PCI_CAP_PCI_CFG) that reaches any BAR
 * through configuration space.
 */
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { MsiSink } from '../../bus/interrupt-line.js';
import { BarLayout } from '../../bus/pci/bar-layout.js';
import { PciFunction, type BarHandler } from '../../bus/pci/function.js';
import { MsixCapability } from '../../bus/pci/msix.js';
import { PCI_CAP_ID, PCI_COMMAND } from '../../bus/pci/registers.js';
import { commonConfigImage, COMMON_CONFIG_SIZE, writeCommonConfig, type CommonConfigState } from './common-config.js';
import {
  VIRTIO_ISR, VIRTIO_MSI_NO_VECTOR, VIRTIO_PCI_CAP, VIRTIO_PCI_MODERN_DEVICE_BASE, VIRTIO_PCI_VENDOR,
} from './constants.js';
import type { VirtioDeviceModel } from './device-model.js';
import { VirtioCore } from './virtio-core.js';

export const VIRTIO_PCI_LAYOUT = {
  MSIX_BAR: 1, MSIX_BAR_SIZE: 0x1000, MSIX_TABLE: 0, MSIX_PBA: 0x800,
  REGS_BAR: 4, REGS_BAR_SIZE: 0x4000, COMMON: 0x0000, ISR: 0x1000, DEVICE: 0x2000, NOTIFY: 0x3000,
  NOTIFY_MULTIPLIER: 4, BLOCK: 0x1000,
} as const;

/** Subsystem ID QEMU gives modern-only virtio functions; drivers match on the device ID. */
const SUBSYSTEM_ID = 0x1100;

export interface VirtioPciOptions {
  mem: GuestMemory;
  msi: MsiSink;
}

export class VirtioPciFunction extends PciFunction {
  readonly core: VirtioCore;
  readonly msix: MsixCapability;
  /** Common-configuration writes ignored for having the wrong width (driver bug). */
  ignoredWrites = 0;
  private readonly state: CommonConfigState;
  private isr = 0;
  private readonly regs: BarLayout;

  constructor(name: string, readonly model: VirtioDeviceModel, opts: VirtioPciOptions) {
    super(name, {
      vendorId: VIRTIO_PCI_VENDOR, deviceId: VIRTIO_PCI_MODERN_DEVICE_BASE + model.deviceId, classCode: model.pciClass,
      revision: 1, subsystemVendorId: VIRTIO_PCI_VENDOR, subsystemId: SUBSYSTEM_ID, interruptPin: 1,
    });
    const L = VIRTIO_PCI_LAYOUT;
    this.core = new VirtioCore(model, opts.mem, {
      queue: (q) => this.interrupt(q.msixVector, VIRTIO_ISR.QUEUE),
      config: () => this.interrupt(this.core.configVector, VIRTIO_ISR.CONFIG),
      reset: () => {
        this.isr = 0;
        this.setIntx(false);
      },
    }, () => (this.command & PCI_COMMAND.BUS_MASTER) !== 0);
    this.state = { core: this.core, deviceFeatureSelect: 0, driverFeatureSelect: 0, queueSelect: 0, vectors: model.queueSizes.length + 1 };

    const notifySize = Math.max(4, model.queueSizes.length * L.NOTIFY_MULTIPLIER);
    const deviceSize = Math.max(4, model.configSize);
    this.addVirtioCap(VIRTIO_PCI_CAP.COMMON, L.COMMON, COMMON_CONFIG_SIZE);
    this.addVirtioCap(VIRTIO_PCI_CAP.ISR, L.ISR, 1);
    const notifyCap = this.addVirtioCap(VIRTIO_PCI_CAP.NOTIFY, L.NOTIFY, notifySize, 20);
    this.config.set32(notifyCap + 16, L.NOTIFY_MULTIPLIER);
    this.addVirtioCap(VIRTIO_PCI_CAP.DEVICE, L.DEVICE, deviceSize);
    this.addPciCfgCap();
    this.msix = new MsixCapability(this, {
      vectors: this.state.vectors, tableBar: L.MSIX_BAR, tableOffset: L.MSIX_TABLE, pbaBar: L.MSIX_BAR, pbaOffset: L.MSIX_PBA,
    }, opts.msi);

    this.addBar(L.MSIX_BAR, {
      kind: 'mem32', size: L.MSIX_BAR_SIZE,
      handler: new BarLayout(L.MSIX_BAR_SIZE).add(L.MSIX_TABLE, this.msix.tableSize, this.msix.tableHandler).add(L.MSIX_PBA, this.msix.pbaSize, this.msix.pbaHandler),
    });
    this.regs = new BarLayout(L.REGS_BAR_SIZE)
      .add(L.COMMON, COMMON_CONFIG_SIZE, {
        read: (offset, data) => data.set(commonConfigImage(this.state).subarray(offset, offset + data.length)),
        write: (offset, data) => { if (!writeCommonConfig(this.state, offset, data)) this.ignoredWrites++; },
      })
      .add(L.ISR, 4, {
        read: (offset, data) => {
          data.fill(0);
          if (offset === 0) data[0] = this.readIsr();
        },
        write: () => { /* the ISR is read-only (4.1.4.5) */ },
      })
      .add(L.DEVICE, L.BLOCK, {
        read: (offset, data) => {
          data.fill(0);
          if (offset < model.configSize) model.readConfig(offset, data);
        },
        write: (offset, data) => { if (offset < model.configSize) model.writeConfig(offset, data); },
      })
      .add(L.NOTIFY, notifySize, {
        read: (_offset, data) => data.fill(0),
        write: (offset) => this.core.notify(Math.floor(offset / L.NOTIFY_MULTIPLIER)),
      });
    this.addBar(L.REGS_BAR, { kind: 'mem64', size: L.REGS_BAR_SIZE, handler: this.regs });
  }

  /** The ISR byte: reading it returns the pending causes and clears them (and the INTx request). */
  private readIsr(): number {
    const v = this.isr;
    this.isr = 0;
    this.setIntx(false);
    return v;
  }

  private interrupt(vector: number, cause: number): void {
    if (this.msix.enabled) {
      if (vector !== VIRTIO_MSI_NO_VECTOR) this.msix.notify(vector);
      return;
    }
    this.isr |= cause;
    this.setIntx(true);
  }

  /** struct virtio_pci_cap (4.1.4): type, BAR, offset and length of one register block. */
  private addVirtioCap(type: number, offset: number, length: number, capLength = 16): number {
    const at = this.addCapability(PCI_CAP_ID.VENDOR, capLength);
    this.config.set8(at + 2, capLength);
    this.config.set8(at + 3, type);
    this.config.set8(at + 4, VIRTIO_PCI_LAYOUT.REGS_BAR);
    this.config.set32(at + 8, offset);
    this.config.set32(at + 12, length);
    return at;
  }

  /**
   * struct virtio_pci_cfg_cap (4.1.4.9): the driver writes bar/offset/length, then reading or
   * writing pci_cfg_data performs that access on the BAR, whatever address the BAR holds.
   */
  private addPciCfgCap(): void {
    const at = this.addCapability(PCI_CAP_ID.VENDOR, 20);
    this.config.set8(at + 2, 20);
    this.config.set8(at + 3, VIRTIO_PCI_CAP.PCI_CFG);
    this.config.setWritable(at + 4, 1, 0xff);
    this.config.setWritable(at + 8, 4, 0xffffffff);
    this.config.setWritable(at + 12, 4, 0xffffffff);
    this.config.setWritable(at + 16, 4, 0xffffffff);
    const target = (): { handler: BarHandler; offset: number; length: number } | undefined => {
      const bar = this.config.get8(at + 4), offset = this.config.get32(at + 8), length = this.config.get32(at + 12);
      const spec = bar < 6 ? this.bar(bar) : undefined;
      // Only 1, 2 or 4 bytes, naturally aligned, inside the BAR (4.1.4.9.1); otherwise nothing happens.
      if (!spec || !(length === 1 || length === 2 || length === 4) || offset % length !== 0 || offset + length > spec.size) return undefined;
      return { handler: spec.handler, offset, length };
    };
    this.addConfigHook({
      start: at + 16, end: at + 20,
      beforeRead: () => {
        const t = target();
        const data = new Uint8Array(4);
        if (t) t.handler.read(t.offset, data.subarray(0, t.length));
        for (let i = 0; i < 4; i++) this.config.set8(at + 16 + i, data[i]!);
      },
      afterWrite: () => {
        const t = target();
        if (t) t.handler.write(t.offset, this.config.bytes.slice(at + 16, at + 16 + t.length));
      },
    });
  }
}
