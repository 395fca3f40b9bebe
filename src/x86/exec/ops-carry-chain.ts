/**
 * ADCX (66 0F 38 F6) and ADOX (F3 0F 38 F6): unsigned add with carry that reads and writes only
 * CF (ADCX) or only OF (ADOX), so two carry chains can interleave. Without a prefix the opcode
 * is WRSS (shadow stacks): the runner's.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { CF, OF } from './context.js';
import { advance } from './address.js';
import { add } from './alu.js';
import { regRead, regWrite, rmAddress, rmRead } from './operands.js';
import { half } from './regs.js';
import { on } from './table.js';

function addCarryChain(ctx: ExecContext, insn: Instruction): boolean {
  const adox = insn.rep === 0xf3;
  if (!adox && !insn.opsizePrefix) return false;
  const size = (insn.rex & 8) !== 0 ? 8 : 4;
  const bit = adox ? OF : CF;
  const b = rmRead(ctx, insn, size, rmAddress(ctx, insn)), bh = half.hi;
  const a = regRead(ctx, insn, size), ah = half.hi;
  const flags = ctx.flags;
  const r = add(ctx, size, a, ah, b, bh, flags & bit ? 1 : 0), rh = half.hi;
  const carry = ctx.flags & CF;
  ctx.flags = (flags & ~bit) | (carry ? bit : 0);
  regWrite(ctx, insn, size, r, rh);
  advance(ctx, insn);
  return true;
}

on(2, 0xf6, addCarryChain);
