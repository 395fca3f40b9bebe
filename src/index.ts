/**
 * tsvisor's public API: import { Hypervisor, State, VmmError } from 'tsvisor'.
 */
export * from './api/types.js';
export { VmmError, hex } from './api/errors.js';
export type { VmmErrorCode } from './api/errors.js';
export type { GuestMemory } from './backends/backend.js';
export * from './frontend/index.js';
