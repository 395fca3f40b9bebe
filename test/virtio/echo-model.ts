/** A device model for queue tests: it records each chain and writes a fixed byte pattern into it. */
import type { GuestMemory } from '../../src/vmm/bus/guest-memory.js';
import type { DescriptorChain } from '../../src/vmm/devices/virtio/chain.js';
import type { VirtioDeviceModel } from '../../src/vmm/devices/virtio/device-model.js';

export class EchoModel implements VirtioDeviceModel {
  readonly deviceId = 0x3f;
  readonly pciClass = 0xff0000;
  readonly features = 0n;
  readonly configSize = 0;
  readonly chains: DescriptorChain[] = [];
  /** Bytes of the readable part of each chain, as the device saw them. */
  readonly payloads: Uint8Array[] = [];
  /** At most this many readable bytes are copied per chain (the fuzzer's guest asks for gigabytes). */
  copyLimit = 4096;

  constructor(readonly queueSizes: readonly number[] = [8]) {}

  readConfig(_offset: number, data: Uint8Array): void { data.fill(0); }
  writeConfig(): void {}
  reset(): void {}

  handle(_queue: number, chain: DescriptorChain, mem: GuestMemory): number {
    this.chains.push(chain);
    const payload = new Uint8Array(Math.min(chain.readableLength, this.copyLimit));
    chain.read(mem, 0, payload);
    this.payloads.push(payload);
    const out = new Uint8Array(Math.min(chain.writableLength, this.copyLimit)).fill(0xa5);
    return chain.write(mem, 0, out);
  }
}
