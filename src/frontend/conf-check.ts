/**
 * Validation of the vCPU configuration calls (configureCpuid, configureTpr) and of run()'s limit.
 * CPUID masks are uint32; int32 values (what JS bit operators produce, e.g. 1 << 31 or ~0x20)
 * are accepted and normalized to uint32 with >>> 0, the one conversion the frontend does here,
 * because both spellings mean the same 32 bits.
 */
import type { CpuidConf, CpuidRegs, RunLimit, TprConf } from '../api/types.js';
import { checkBool, checkInt, checkKeys } from './checks.js';

const REGS = ['eax', 'ebx', 'ecx', 'edx'] as const;

function checkRegs(what: string, v: unknown): Partial<CpuidRegs> {
  const obj = checkKeys(what, v, REGS);
  const out: Partial<CpuidRegs> = {};
  for (const r of REGS) {
    if (obj[r] !== undefined) out[r] = checkInt(`${what}.${r}`, obj[r], -0x80000000, 0xffffffff) >>> 0;
  }
  return out;
}

export function checkCpuidLeaf(leaf: unknown): number {
  return checkInt('CPUID leaf', leaf, 0, 0xffffffff);
}

export function checkCpuidConf(conf: unknown): CpuidConf {
  const obj = checkKeys('CPUID conf', conf, ['set', 'del', 'exit']);
  const out: CpuidConf = {};
  if (obj['set'] !== undefined) out.set = checkRegs('CPUID conf.set', obj['set']);
  if (obj['del'] !== undefined) out.del = checkRegs('CPUID conf.del', obj['del']);
  if (obj['exit'] !== undefined) out.exit = checkBool('CPUID conf.exit', obj['exit']);
  // set and del may overlap: (value & ~del) | set replaces a field, e.g. the APIC id in leaf 1 EBX.
  return out;
}

export function checkTprConf(conf: unknown): TprConf {
  const obj = checkKeys('TPR conf', conf, ['exitChanged']);
  return { exitChanged: checkBool('TPR conf.exitChanged', obj['exitChanged']) };
}

export function checkRunLimit(limit: unknown): RunLimit {
  const obj = checkKeys('run limit', limit, ['maxInstructions']);
  return { maxInstructions: checkInt('run limit.maxInstructions', obj['maxInstructions'], 1, Number.MAX_SAFE_INTEGER) };
}
