/**
 * The entry point of the API: opens a backend and creates machines, enforcing the live-machine
 * limit (MAX_MACHINES live machines per JS thread -- module state is per worker -- across all
 * Hypervisor instances, as NVMM has one global limit).
 */
import { VmmError } from '../api/errors.js';
import type { BackendChoice, BackendName, Capability, MachineOptions, MachineShare, TscSource, HostWrites } from '../api/types.js';
import { describe } from './describe.js';
import type { Backend } from '../backends/backend.js';
import { effectiveChoice, openBackend } from './backend-select.js';
import { checkKeys } from './checks.js';
import { API_VERSION, MAX_MACHINES, MAX_VCPUS } from './limits.js';
import { Machine } from './machine.js';
import type { MachineOwner } from './machine.js';
import { machineRegistry } from './registry.js';

export interface OpenOptions {
  /** Default 'auto': KVM when usable, else soft (TSVISOR_BACKEND=kvm|soft overrides 'auto'). */
  backend?: BackendChoice;
}

let liveMachines = 0;

export class Hypervisor {
  readonly backend: BackendName;
  private readonly impl: Backend;
  private readonly cap: Capability;
  private readonly machines = new Set<Machine>();
  private readonly owner: MachineOwner;
  private closed = false;

  private constructor(impl: Backend) {
    this.impl = impl;
    this.backend = impl.name;
    const cap = impl.capability();
    // The frontend owns the version and the limits; a backend can only lower them.
    this.cap = {
      ...cap,
      version: API_VERSION,
      maxMachines: Math.min(cap.maxMachines, MAX_MACHINES),
      maxVcpus: Math.min(cap.maxVcpus, MAX_VCPUS),
      arch: { ...cap.arch, vcpuConf: { ...cap.arch.vcpuConf } },
    };
    this.owner = {
      backend: impl,
      capability: this.cap,
      machineChanged: (m) => machineRegistry().update(m.id, m.info),
      machineDestroyed: (m) => {
        this.machines.delete(m);
        liveMachines--;
        machineRegistry().unregister(m.id);
      },
    };
  }

  static open(options: OpenOptions = {}): Hypervisor {
    const opts = checkKeys('open options', options, ['backend']);
    return new Hypervisor(openBackend(effectiveChoice(opts['backend'] ?? 'auto')));
  }

  /** @internal For tests and embedders that build a Backend themselves. */
  static fromBackend(backend: Backend): Hypervisor {
    return new Hypervisor(backend);
  }

  private live(): Backend {
    if (this.closed) throw new VmmError('ENOENT', `hypervisor (${this.backend}) has been closed`);
    return this.impl;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  capability(): Capability {
    this.live();
    return { ...this.cap, arch: { ...this.cap.arch, vcpuConf: { ...this.cap.arch.vcpuConf } } };
  }

  /**
   * options.tsc: 'instructions' (soft's default) or 'host' (KVM's only clock; needed to share a soft
   * machine). options.hostWrites: 'unannounced' (default) or 'announced' (see MachineOptions).
   */
  createMachine(options: MachineOptions = {}): Machine {
    const impl = this.live();
    const opts = checkKeys('createMachine options', options, ['tsc', 'hostWrites']);
    const tsc = opts['tsc'], hostWrites = opts['hostWrites'];
    if (tsc !== undefined && tsc !== 'instructions' && tsc !== 'host') {
      throw new VmmError('EINVAL', `createMachine tsc must be 'instructions' or 'host', got ${describe(tsc)}`);
    }
    if (hostWrites !== undefined && hostWrites !== 'unannounced' && hostWrites !== 'announced') {
      throw new VmmError('EINVAL', `createMachine hostWrites must be 'unannounced' or 'announced', got ${describe(hostWrites)}`);
    }
    if (liveMachines >= this.cap.maxMachines) {
      throw new VmmError('ENOBUFS', `already ${liveMachines} live machines in this process (max ${this.cap.maxMachines})`);
    }
    const registry = machineRegistry();
    const bm = impl.createMachine({
      ...(tsc === undefined ? {} : { tsc: tsc as TscSource }),
      ...(hostWrites === undefined ? {} : { hostWrites: hostWrites as HostWrites }),
    });
    let id: number;
    try {
      id = registry.register(this.backend);
    } catch (e) {
      bm.destroy();
      throw e;
    }
    const m = new Machine(this.owner, id, bm);
    liveMachines++;
    this.machines.add(m);
    return m;
  }

  /**
   * This thread's view of a machine another thread shared (Machine.share, posted here): the same
   * guest RAM and map, vCPUs of its own. Not a new machine: no registry entry, not counted in
   * maxMachines; destroy() ends only this view's vCPUs. Destroy the sharing machine last.
   */
  attachMachine(share: MachineShare): Machine {
    const impl = this.live();
    if (share === null || typeof share !== 'object' || typeof share.data !== 'object' || share.data === null) {
      throw new VmmError('EINVAL', `attachMachine needs what Machine.share() returned, got ${describe(share)}`);
    }
    if (share.backend !== this.backend) {
      throw new VmmError('EINVAL', `attachMachine: the machine was shared by the ${describe(share.backend)} backend, this hypervisor is ${this.backend}`);
    }
    const attached = impl.attachMachine(share.data);
    const view = new Machine({ ...this.owner, machineChanged: () => {}, machineDestroyed: (m) => { this.machines.delete(m); } }, share.id, attached.machine);
    view.adoptSharedMap(attached.mappings);
    this.machines.add(view);
    return view;
  }

  /** Destroys every machine still alive, then closes the backend. */
  close(): void {
    const impl = this.live();
    this.closed = true;
    try {
      for (const m of [...this.machines]) m.destroy();
    } finally {
      impl.close();
    }
  }
}
