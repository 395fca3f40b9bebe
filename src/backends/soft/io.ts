/**
 * Port I/O: IN/OUT/INS/OUTS become 'io' exits with the same fields as the KVM backend. RIP stays
 * on the instruction and npc names the next one. IN/OUT exits carry backendCompletes: the caller
 * only exchanges exit.data (assistIo) and SoftVcpu finishes the instruction at the next run()
 * from cpu.ioCompletion (exit-completion.ts). INS/OUTS exits do not: assistIo runs the string
 * loop over getState/setState. Protection: at CPL > IOPL (or in virtual-8086 mode) the TSS I/O
 * permission bitmap decides, else #GP(0).
 */
import type { Instruction } from '../../x86/instruction.js';
import { nextRipOut, nextRipU64 } from '../../x86/exec/address.js';
import type { SoftCpu } from './cpu.js';
import { ExitSignal, type ExitWithoutState } from './signals.js';
import { ATTR_P, CR0_PE, RFLAGS_VM, SLOT_TR } from './state.js';
import { advance, gp0, iopl } from './system-common.js';

const TWO32 = 4294967296;
const SEG_DS = 3;

/** Checks the TSS I/O bitmap for `size` ports from `port` (#GP(0) when any is denied). */
function checkIoPermission(cpu: SoftCpu, port: number, size: number): void {
  if (!(cpu.cr0 & CR0_PE)) return;
  if (cpu.cpl <= iopl(cpu) && !(cpu.flags & RFLAGS_VM)) return;
  const trType = cpu.segAttr[SLOT_TR]! & 0xf;
  if (!(cpu.segAttr[SLOT_TR]! & ATTR_P) || (trType !== 9 && trType !== 0xb)) throw gp0(`I/O to port 0x${port.toString(16)} at CPL ${cpu.cpl} without a 32/64-bit TSS`);
  const limit = cpu.segLimit[SLOT_TR]!;
  if (limit < 0x67) throw gp0(`I/O to port 0x${port.toString(16)}: TSS limit too small for an I/O bitmap`);
  const base = cpu.segBase[SLOT_TR]!;
  const mapBase = cpu.readSys(base + 0x66, 2);
  const byte = mapBase + (port >>> 3);
  if (byte + 1 > limit) throw gp0(`I/O to port 0x${port.toString(16)} beyond the TSS I/O bitmap`);
  const bits = cpu.readSys(base + byte, 2);
  const mask = ((1 << size) - 1) << (port & 7);
  if (bits & mask) throw gp0(`I/O to port 0x${port.toString(16)} denied by the TSS I/O bitmap`);
}

function ioSize(insn: Instruction): number {
  return insn.opSize === 1 ? 1 : insn.opSize === 2 ? 2 : 4;
}

function portOf(cpu: SoftCpu, insn: Instruction): number {
  // E4-E7 carry an imm8 port; the others use DX.
  return insn.opcode >= 0xe4 && insn.opcode <= 0xe7 ? insn.imm & 0xff : cpu.regs[4]! & 0xffff;
}

function valueBytes(v: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let k = 0; k < size; k++) d[k] = v >>> (8 * k);
  return d;
}

/** IN/OUT with an immediate or DX port: an exit the backend completes (cpu.ioCompletion). */
export function inOut(cpu: SoftCpu, insn: Instruction): void {
  throw new ExitSignal(inOutExit(cpu, insn));
}

/**
 * The work of inOut in a function that returns: V8 does not optimize a function that throws on
 * every call, so everything left in the throwing one runs unoptimized (measured: ~2x the cost).
 */
function inOutExit(cpu: SoftCpu, insn: Instruction): ExitWithoutState {
  const size = ioSize(insn);
  const port = portOf(cpu, insn);
  const isIn = insn.mnemonic === 'in';
  checkIoPermission(cpu, port, size);
  const data = isIn ? new Uint8Array(size) : valueBytes(cpu.regs[0]!, size);
  const npc = nextRipU64(cpu, insn);
  cpu.ioCompletion = { in: isIn, size, data, npcLo: nextRipOut.lo, npcHi: nextRipOut.hi };
  return { reason: 'io', port, in: isIn, size, data, rep: false, str: false, npc, backendCompletes: true };
}

/** The count register at the address size (REP forms). */
function repCount(cpu: SoftCpu, insn: Instruction): number {
  const lo = cpu.regs[2]!;
  if (insn.addrSize === 2) return lo & 0xffff;
  if (insn.addrSize === 4) return lo >>> 0;
  return cpu.regs[3]! * TWO32 + (lo >>> 0);
}

/** INS/OUTS: one exit; assistIo runs the element loop. */
export function insOuts(cpu: SoftCpu, insn: Instruction): void {
  const size = ioSize(insn);
  const port = cpu.regs[4]! & 0xffff;
  const isIn = insn.mnemonic === 'ins';
  const rep = insn.rep !== 0;
  if (rep && repCount(cpu, insn) === 0) { advance(cpu, insn); return; }
  checkIoPermission(cpu, port, size);
  let data: Uint8Array = new Uint8Array(size);
  if (!isIn) {
    // The first element, as KVM reports it (a fault here is the instruction's own fault).
    const si = insn.addrSize === 8 ? cpu.reg64(6) : insn.addrSize === 4 ? cpu.regs[12]! >>> 0 : cpu.regs[12]! & 0xffff;
    const seg = insn.segOverride >= 0 ? insn.segOverride : SEG_DS;
    data = valueBytes(cpu.read(seg, si, size as 1 | 2 | 4), size);
  }
  throw new ExitSignal({ reason: 'io', port, in: isIn, size, data, rep, str: true, npc: nextRipU64(cpu, insn) });
}
