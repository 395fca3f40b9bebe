/**
 * tsvisor's public API: import { Hypervisor, State, VmmError } from 'tsvisor'.
 */
export * from './api/types.js';
export { VmmError, hex } from './api/errors.js';
export type { VmmErrorCode } from './api/errors.js';
/** What the assists throw when the instruction they emulate faults in the guest (inject it). */
export { AssistFault } from './x86/assist/assist-fault.js';
export type { GuestMemory } from './backends/backend.js';
export * from './frontend/index.js';
// Ready-made vCPU states (reset, real mode, flat 32-bit, long mode with its tables).
export {
  resetState, realModeState, flat32State, longModeState, writeIdentityPageTables, segment,
  LONG_MODE_TABLES_SIZE, GDT_SELECTORS,
} from './x86/boot-state.js';
export type { LongModeLayout, LongModeOptions } from './x86/boot-state.js';
// The x86 assists' building blocks, for emulators that want them directly.
export { decode } from './x86/decoder/index.js';
export type { Instruction, MemoryOperand, Operand, CodeMode } from './x86/instruction.js';
