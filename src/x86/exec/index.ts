/**
 * The instruction executor: `execute(ctx, insn)` runs one decoded general-purpose integer
 * instruction over an ExecContext (the soft CPU, or the assists' one-instruction emulator).
 *
 * On entry ctx RIP is the instruction's address; on success RIP is the next instruction or
 * the branch target and it returns true. It returns false, changing nothing, for instructions
 * it does not implement (system, I/O, x87/SSE, far transfers, segment loads: the runner's).
 * Faults throw X86Fault; memory accesses precede register commits so a throwing access leaves
 * the registers and flags as they were (REP string ops: as of the last completed iteration).
 *
 * Implemented (all operand sizes, exact flags; "undefined" flags as AMD hardware, see
 * undefined-flags.ts):
 *   MOV 88-8B A0-A3 B0-BF C6/C7 /0; MOVZX MOVSX MOVSXD; LEA; XCHG 86/87 90-97; NOP PAUSE 0F 0D
 *   0F 18-1F; ADD OR ADC SBB AND SUB XOR CMP (00-3D, 80-83); TEST; INC DEC (40-4F, FE/FF);
 *   NOT NEG; MUL IMUL (1/2/3 operands) DIV IDIV (#DE); ROL ROR RCL RCR SHL SHR SAL SAR; SHLD
 *   SHRD; BT BTS BTR BTC (register bit strings in memory); BSF BSR TZCNT LZCNT POPCNT; MOVBE;
 *   CRC32; ADCX ADOX; BSWAP; CMOVcc SETcc; CMPXCHG CMPXCHG8B CMPXCHG16B XADD; MOVS CMPS STOS
 *   LODS SCAS with REP/REPE/REPNE; Jcc JMP CALL RET (near, rel and r/m, RET imm16); LOOP LOOPE
 *   LOOPNE JCXZ/JECXZ/JRCXZ; PUSH POP (reg, r/m, imm); PUSHA POPA; PUSHF; POPF (when ctx.cpl
 *   is set); ENTER LEAVE; LAHF SAHF; CLC STC CMC CLD STD; CBW CWDE CDQE CWD CDQ CQO; XLAT;
 *   DAA DAS AAA AAS AAM AAD. LOCK is checked (#UD on a register or non-lockable destination).
 * Declined (false): everything else, notably IN OUT INS OUTS, INT INT3 INTO IRET, far JMP/CALL/
 * RET, MOV/PUSH/POP segment registers, MOV CR/DR, CLI STI HLT CPUID RDTSC RDMSR WRMSR SYSCALL
 * SYSRET SYSENTER SYSEXIT, LGDT and the other descriptor-table and 0F 00/01 instructions,
 * BOUND ARPL UD2, RDRAND RDSEED, x87 SSE AVX (VEX/EVEX), and POPF/PUSHF in virtual-8086 mode
 * with IOPL < 3.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault } from './context.js';
import { HANDLERS, LOCK_REGS, MAP_SIZE, isLocked, isWideLocked } from './table.js';
import './ops-arith.js';
import './ops-atomic.js';
import './ops-bcd.js';
import './ops-bit.js';
import './ops-carry-chain.js';
import './ops-control.js';
import './ops-flags.js';
import './ops-move.js';
import './ops-muldiv.js';
import './ops-shift.js';
import './ops-stack.js';
import './ops-string.js';
import './groups.js';

export function execute(ctx: ExecContext, insn: Instruction): boolean {
  if (insn.vex !== 0) return false;
  const index = insn.map * MAP_SIZE + insn.opcode;
  const handler = HANDLERS[index];
  if (handler === undefined) return false;
  if (insn.lock && (insn.mod === 3 || !insn.hasModrm || (LOCK_REGS[index] & (1 << (insn.reg & 7))) === 0)) {
    throw new X86Fault(6, undefined, `lock prefix not allowed on ${insn.mnemonic}`);
  }
  if (ctx.atomically !== undefined && isLocked(insn)) return ctx.atomically((c) => handler(c, insn), isWideLocked(insn));
  return handler(ctx, insn);
}

/** Whether execute() has a handler for this opcode (some handlers still decline sub-forms). */
export function hasHandler(insn: Instruction): boolean {
  return insn.vex === 0 && HANDLERS[insn.map * MAP_SIZE + insn.opcode] !== undefined;
}

export type { ExecContext } from './context.js';
export { X86Fault, RIP_LO } from './context.js';
export { effectiveAddress, wrapAddress, pairToAddress, advance } from './address.js';
export { condition, PARITY } from './flags.js';
