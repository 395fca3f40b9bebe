/**
 * The frontend's limits, as NVMM's machine-independent layer fixes them (NVMM_MAX_MACHINES,
 * NVMM_MAX_VCPUS). A backend may report lower figures; capability() gives the smaller of the two.
 */
export const API_VERSION = 1;
/** Live machines per JS thread (module state: each worker_thread counts its own), all Hypervisor instances together. */
export const MAX_MACHINES = 128;
/** vCPU ids are 0..MAX_VCPUS-1 on each machine. */
export const MAX_VCPUS = 128;
export const PAGE_SIZE = 4096;
/** Architectural limit of x86-64 physical addresses (MAXPHYADDR <= 52). */
export const MAX_GPA = 2 ** 52;
