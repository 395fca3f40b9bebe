/**
 * calc-vm (NVMM's calc-vm example, as a tool): a one-vCPU machine whose only memory is a 4 KiB
 * ROM at the top of the 4 GiB space, started from the x86 reset state. guests/calc.S adds EAX to
 * EBX with the carry in EDX, then halts; the host reads the sum from EDX:EBX.
 */
import { VmmError } from '../api/errors.js';
import type { BackendChoice, BackendName } from '../api/types.js';
import { Hypervisor } from '../frontend/hypervisor.js';
import { resetState } from '../x86/boot-state.js';

/** The ROM page holding the reset vector 0xFFFFFFF0 (CS base 0xFFFF0000 + IP 0xFFF0). */
export const CALC_ROM_GPA = 0xfffff000;
export const CALC_ROM_SIZE = 0x1000;
/** The guest works on 32-bit halves (real mode), so each operand is a uint32. */
export const CALC_OPERAND_MAX = 0xffffffff;

export interface CalcResult {
  result: bigint;
  backend: BackendName;
}

export function runCalc(rom: Uint8Array, a: number, b: number, backend: BackendChoice = 'auto'): CalcResult {
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > CALC_OPERAND_MAX) {
      throw new VmmError('EINVAL', `calc operand ${name} must be an integer in [0, ${CALC_OPERAND_MAX}], got ${v}`);
    }
  }
  if (rom.length !== CALC_ROM_SIZE) {
    throw new VmmError('EINVAL', `calc ROM image must be ${CALC_ROM_SIZE} bytes, got ${rom.length}`);
  }
  const hv = Hypervisor.open({ backend });
  try {
    const m = hv.createMachine();
    const mem = m.allocate(CALC_ROM_SIZE);
    mem.bytes.set(rom);
    m.map(CALC_ROM_GPA, mem, { prot: 'rx' });
    const cpu = m.createVcpu(0);
    const reset = resetState();
    cpu.setState({ ...reset, gprs: { ...reset.gprs, rax: BigInt(a), rbx: BigInt(b), rdx: 0n } });
    const exit = cpu.run();
    if (exit.reason !== 'halted') {
      const detail = exit.reason === 'invalid' ? `: ${exit.detail}` : '';
      throw new VmmError('EIO', `calc guest did not halt: exit reason '${exit.reason}'${detail}`);
    }
    const gprs = cpu.getState().gprs!;
    return { result: ((gprs.rdx & 0xffffffffn) << 32n) | (gprs.rbx & 0xffffffffn), backend: hv.backend };
  } finally {
    hv.close();
  }
}
