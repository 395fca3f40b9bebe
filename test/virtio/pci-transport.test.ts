/**
 * The virtio PCI transport as Linux's virtio_pci_modern drives it: identity, capability walk,
 * the init sequence with feature negotiation and MSI-X vectors, reset, INTx with the ISR, and
 * the PCI configuration access capability.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioRng } from '../../src/vmm/devices/virtio/rng.js';
import { STATUS, TestMachine } from './guest-driver.js';

const VERSION_1 = 1n << 32n;

test('identity: vendor 0x1AF4, modern device ID 0x1040 + 4, revision 1, INTA', () => {
  const m = new TestMachine(new VirtioRng());
  assert.equal(m.cfg.read(m.slot, 0, 0, 4), 0x10441af4);
  assert.equal(m.cfg.read(m.slot, 0, 8, 1), 1);
  assert.equal(m.cfg.read(m.slot, 0, 0x0a, 2), 0xff00);
  assert.equal(m.cfg.read(m.slot, 0, 0x2c, 4), 0x11001af4);
  assert.equal(m.cfg.read(m.slot, 0, 0x3d, 1), 1);
  const caps = m.findCaps();
  assert.equal(caps.notifyMultiplier, 4);
  assert.equal(caps.common % 0x4000, 0, 'common block at the start of BAR4');
});

test('Linux init sequence with MSI-X: features, FEATURES_OK, vectors, queue, DRIVER_OK, then a request', () => {
  const m = new TestMachine(new VirtioRng());
  const [q] = m.init({ useMsix: true });
  assert.equal(m.status(), STATUS.ACK | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
  assert.equal(m.dev.core.negotiated & VERSION_1, VERSION_1);
  const buf = m.ram.alloc(64);
  q!.add([{ gpa: buf, len: 64, write: true }]);
  m.kick(q!);
  assert.deepEqual(q!.takeUsed(), [{ id: 0, len: 64 }]);
  assert.deepEqual(m.sink.messages, [{ address: 0xfee00000, data: 0x41 }], 'queue 0 fires vector 1');
  assert.equal(m.intx.level, false, 'no INTx while MSI-X is enabled');
});

test('FEATURES_OK is refused without VERSION_1 and for bits the device did not offer', () => {
  for (const features of [0n, VERSION_1 | (1n << 40n)]) {
    const m = new TestMachine(new VirtioRng());
    m.findCaps();
    m.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER);
    m.setCommon(0x08, 4, 0);
    m.setCommon(0x0c, 4, Number(features & 0xffffffffn));
    m.setCommon(0x08, 4, 1);
    m.setCommon(0x0c, 4, Number(features >> 32n));
    m.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER | STATUS.FEATURES_OK);
    assert.equal(m.status() & STATUS.FEATURES_OK, 0, `features ${features.toString(16)} refused`);
  }
});

test('writing 0 to device_status resets queues, vectors and features', () => {
  const m = new TestMachine(new VirtioRng());
  m.init({ useMsix: true, queueSize: 16 });
  m.setCommon(0x14, 1, 0);
  assert.equal(m.status(), 0);
  m.setCommon(0x16, 2, 0);
  assert.equal(m.common(0x18, 2), 64, 'queue size back to its maximum');
  assert.equal(m.common(0x1c, 2), 0, 'queue disabled');
  assert.equal(m.common(0x1a, 2), 0xffff, 'no vector');
  assert.equal(m.common(0x20, 4), 0, 'descriptor address cleared');
  assert.equal(m.common(0x10, 2), 0xffff);
  m.setCommon(0x08, 4, 1);
  assert.equal(m.common(0x0c, 4), 0, 'driver features cleared');
  // And the device comes back up.
  const [q] = m.init({ useMsix: true });
  q!.add([{ gpa: m.ram.alloc(8), len: 8, write: true }]);
  m.kick(q!);
  assert.equal(q!.takeUsed().length, 1);
});

test('vector numbers past the MSI-X table read back as NO_VECTOR; queue_select past the end reads size 0', () => {
  const m = new TestMachine(new VirtioRng());
  m.findCaps();
  m.setCommon(0x10, 2, 2);
  assert.equal(m.common(0x10, 2), 0xffff, 'rng has 2 vectors: 0 and 1');
  m.setCommon(0x16, 2, 0);
  m.setCommon(0x1a, 2, 7);
  assert.equal(m.common(0x1a, 2), 0xffff);
  assert.equal(m.common(0x12, 2), 1, 'num_queues');
  m.setCommon(0x16, 2, 5);
  assert.equal(m.common(0x18, 2), 0);
  m.setCommon(0x18, 2, 8); // ignored: no such queue
  assert.equal(m.common(0x04, 2), m.common(0x04, 4) & 0xffff, 'reads of any width come from the same image');
  m.setCommon(0x14, 2, 3);
  assert.equal(m.status(), 0, 'a 2-byte write to the 1-byte status field is ignored');
  assert.equal(m.dev.ignoredWrites, 1);
});

test('without MSI-X: ISR bit 0 and INTx assert; reading the ISR clears both', () => {
  const m = new TestMachine(new VirtioRng());
  const [q] = m.init();
  q!.add([{ gpa: m.ram.alloc(16), len: 16, write: true }]);
  m.kick(q!);
  assert.equal(m.intx.level, true);
  assert.ok(m.cfg.read(m.slot, 0, 6, 2) & 0x08, 'PCI interrupt status');
  assert.equal(m.readIsr(), 1);
  assert.equal(m.intx.level, false);
  assert.equal(m.readIsr(), 0);
  assert.equal(m.sink.messages.length, 0);
  // A reset withdraws an interrupt the driver never acknowledged. (EVENT_IDX is negotiated:
  // like Linux, the driver asks for the next interrupt by moving used_event.)
  q!.usedEvent = 1;
  q!.add([{ gpa: m.ram.alloc(16), len: 16, write: true }]);
  m.kick(q!);
  assert.equal(m.intx.level, true);
  m.setCommon(0x14, 1, 0);
  assert.equal(m.intx.level, false);
  assert.equal(m.readIsr(), 0);
});

test('with MSI-X on, a queue whose vector is NO_VECTOR raises nothing (and no INTx)', () => {
  const m = new TestMachine(new VirtioRng());
  const [q] = m.init({ useMsix: true });
  m.setCommon(0x16, 2, 0);
  m.setCommon(0x1a, 2, 0xffff);
  q!.add([{ gpa: m.ram.alloc(16), len: 16, write: true }]);
  m.kick(q!);
  assert.equal(q!.takeUsed().length, 1);
  assert.equal(m.sink.messages.length, 0);
  assert.equal(m.intx.level, false);
});

test('the PCI configuration access capability reaches the BAR registers through config space', () => {
  const m = new TestMachine(new VirtioRng());
  const p = m.findCaps().pciCfg;
  m.cfg.write(m.slot, 0, p + 4, 1, 4);
  m.cfg.write(m.slot, 0, p + 8, 4, 0x12);
  m.cfg.write(m.slot, 0, p + 12, 4, 2);
  assert.equal(m.cfg.read(m.slot, 0, p + 16, 4) & 0xffff, 1, 'num_queues read through pci_cfg_data');
  m.cfg.write(m.slot, 0, p + 8, 4, 0x14);
  m.cfg.write(m.slot, 0, p + 12, 4, 1);
  m.cfg.write(m.slot, 0, p + 16, 4, STATUS.ACK);
  assert.equal(m.status(), STATUS.ACK, 'device_status written through pci_cfg_data');
  m.cfg.write(m.slot, 0, p + 12, 4, 3);
  assert.equal(m.cfg.read(m.slot, 0, p + 16, 4), 0, 'a 3-byte access does nothing');
});

test('a queue programmed with a size that is not a power of two puts the device in NEEDS_RESET', () => {
  const m = new TestMachine(new VirtioRng());
  m.findCaps();
  m.setCommon(0x14, 1, STATUS.ACK | STATUS.DRIVER);
  m.setCommon(0x16, 2, 0);
  m.setCommon(0x18, 2, 24);
  m.setCommon(0x1c, 2, 1);
  assert.equal(m.common(0x1c, 2), 0);
  assert.ok(m.status() & STATUS.NEEDS_RESET);
  assert.match(m.dev.core.lastError, /size 24 is not a power of two/);
});

test('notifies are not served while Bus Master is off, and are after it is set', () => {
  const m = new TestMachine(new VirtioRng());
  const [q] = m.init();
  m.cfg.write(m.slot, 0, 4, 2, 0x0002);
  q!.add([{ gpa: m.ram.alloc(16), len: 16, write: true }]);
  m.kick(q!);
  assert.equal(q!.takeUsed().length, 0);
  assert.equal(m.dev.core.blockedNotifies, 1);
  m.cfg.write(m.slot, 0, 4, 2, 0x0006);
  m.kick(q!);
  assert.equal(q!.takeUsed().length, 1);
});

test('a configuration change bumps config_generation and raises the configuration vector', () => {
  const m = new TestMachine(new VirtioRng());
  m.init({ useMsix: true });
  const gen = m.common(0x15, 1);
  m.dev.core.configChanged();
  assert.equal(m.common(0x15, 1), (gen + 1) & 0xff);
  assert.deepEqual(m.sink.messages, [{ address: 0xfee00000, data: 0x40 }]);
  // Without MSI-X it is ISR bit 1 and INTx.
  const m2 = new TestMachine(new VirtioRng());
  m2.init();
  m2.dev.core.configChanged();
  assert.equal(m2.intx.level, true);
  assert.equal(m2.readIsr(), 2);
  assert.equal(m2.intx.level, false);
});
