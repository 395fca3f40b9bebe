/**
 * The userland x86 assists (libnvmm's nvmm_assist_io / nvmm_assist_mem): emulate the instruction
 * behind an I/O or memory exit over the public vCPU API (getState/setState, machine.gpaToHost),
 * calling the caller's handler for the device side. See io.ts and mem.ts for the exact behaviour.
 */
export { assistIo, IO_REP_BUDGET } from './io.js';
export { assistMem, MEM_REP_BUDGET } from './mem.js';
export { AssistFault } from './assist-fault.js';
