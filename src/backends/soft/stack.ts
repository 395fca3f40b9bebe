/**
 * Stack pushes and pops for the system instructions (far calls/returns, IRET, interrupt
 * frames), honouring the stack address size. Each write happens before RSP changes, so a
 * faulting push leaves RSP as it was.
 */
import type { SoftCpu } from './cpu.js';

const RSP = 4;
const SEG_SS = 2;

/** RSP minus n, wrapped to the stack address size. */
export function stackOffset(cpu: SoftCpu, rsp: number, delta: number): number {
  const v = rsp + delta;
  if (cpu.stackSize === 2) return v & 0xffff;
  if (cpu.stackSize === 4) return v >>> 0;
  return v;
}

export function getRsp(cpu: SoftCpu): number {
  if (cpu.stackSize === 2) return cpu.regs[2 * RSP]! & 0xffff;
  if (cpu.stackSize === 4) return cpu.regs[2 * RSP]! >>> 0;
  return cpu.reg64(RSP);
}

export function setRsp(cpu: SoftCpu, v: number): void {
  if (cpu.stackSize === 2) cpu.regs[2 * RSP] = (cpu.regs[2 * RSP]! & ~0xffff) | (v & 0xffff);
  else if (cpu.stackSize === 4) { cpu.regs[2 * RSP] = v; cpu.regs[2 * RSP + 1] = 0; }
  else cpu.setReg64(RSP, v);
}

/** Pushes a value of size bytes (hi: the upper half for 8-byte pushes). */
export function push(cpu: SoftCpu, size: 2 | 4 | 8, lo: number, hi = 0): void {
  const sp = stackOffset(cpu, getRsp(cpu), -size);
  cpu.write(SEG_SS, sp, size, lo, hi);
  setRsp(cpu, sp);
}

/**
 * Reads `count` stack slots of `size` bytes starting at RSP without popping them, so that an
 * instruction can check everything before it commits (the caller then calls discard()).
 * 8-byte slots come back as numbers (signed in long mode).
 */
export function peek(cpu: SoftCpu, size: 2 | 4 | 8, count: number): number[] {
  const out: number[] = [];
  let sp = getRsp(cpu);
  for (let k = 0; k < count; k++) {
    const lo = cpu.read(SEG_SS, sp, size);
    if (size === 8) out.push(cpu.memHi * 4294967296 + (lo >>> 0));
    else out.push(size === 4 ? lo >>> 0 : lo);
    sp = stackOffset(cpu, sp, size);
  }
  return out;
}

export function discard(cpu: SoftCpu, bytes: number): void {
  setRsp(cpu, stackOffset(cpu, getRsp(cpu), bytes));
}
