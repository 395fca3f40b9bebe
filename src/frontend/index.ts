/** The frontend: the machine-independent half of the API (see shared/DESIGN.md). */
export { Hypervisor } from './hypervisor.js';
export type { OpenOptions } from './hypervisor.js';
export { Machine } from './machine.js';
export type { MapOptions, HostLocation, MachineInfo } from './machine.js';
export { Vcpu } from './vcpu.js';
export { stopVcpu } from './stop.js';
export { API_VERSION, MAX_MACHINES, MAX_VCPUS, PAGE_SIZE, MAX_GPA } from './limits.js';
export type { GvaAccess } from '../x86/mmu/index.js';
export { listMachines } from './registry.js';
export type { MachineEntry } from './registry.js';
export { runtimeDirPath } from './runtime-dir.js';
