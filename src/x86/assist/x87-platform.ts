/**
 * The x87 layer's platform (src/x86/x87-exec/context.ts) under the memory assist.
 *
 * FCS/FDS are not part of the API state: the assist gives the layer a record holding the
 * current CS and DS selectors (what they are after any x87 instruction in this code and data
 * segment), or 0 while FIP (FCS) or FDP (FDS) are 0 as after FNINIT, and its updates are not kept.
 * So the 32-bit formats (FNSTENV/FNSAVE, FXSAVE/XSAVE without REX.W) written to MMIO can differ
 * from the CPU's in those two words: after a REX.W FXRSTOR/XRSTOR (which zero them on the CPU),
 * or when the last x87 instruction ran with other CS/DS selectors. XINUSE (XSAVEOPT) counts them. FISTTP: the CPU that exited ran it far enough to
 * access memory, so it exists there (on a CPU without SSE3 it raises #UD before any access). A
 * pending x87 error at a waiting instruction is likewise raised by the CPU before the access;
 * meeting one here means the state is not the exit's, which is reported, not emulated.
 */
import { VmmError } from '../../api/errors.js';
import type { X87Context, X87Platform, X87Selectors } from '../x87-exec/context.js';

const SEG_CS = 1, SEG_DS = 3;
const scratch: X87Selectors = { fcs: 0, fds: 0, dsBase: 0 };

export const ASSIST_X87: X87Platform = {
  selectors(ctx: X87Context): X87Selectors {
    const noInstruction = ctx.fip === 0n && ctx.fop === 0, noOperand = ctx.fdp === 0n;
    scratch.fcs = noInstruction ? 0 : ctx.segSel[SEG_CS]! & 0xffff;
    scratch.fds = noOperand ? 0 : ctx.segSel[SEG_DS]! & 0xffff;
    scratch.dsBase = noOperand ? 0 : ctx.segBase[SEG_DS]!;
    return scratch;
  },
  hasFisttp: () => true,
  unsignalledError(_ctx: X87Context, detail: string): never {
    throw new VmmError('EFAULT', `assistMem: ${detail}; the CPU raises that before the memory access, so the exit does not come from this state`);
  },
};
