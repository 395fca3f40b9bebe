/** `tsvisor calc <a> <b> [--backend]`: boots the calc guest and prints `Result: <a+b>`. */
import { Command, InvalidArgumentError } from 'commander';
import type { BackendChoice } from '../../api/types.js';
import { backendOption } from '../backend-option.js';
import { CALC_OPERAND_MAX, runCalc } from '../calc-vm.js';
import { guestImage } from '../guest-image.js';

function parseOperand(text: string): number {
  const v = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
  if (!(v <= CALC_OPERAND_MAX)) {
    throw new InvalidArgumentError(`expected an unsigned 32-bit integer (decimal or 0x hex), got ${JSON.stringify(text)}`);
  }
  return v;
}

export function calcCommand(): Command {
  return new Command('calc')
    .description('boot a VM from the x86 reset state that adds two numbers in the guest (guests/calc.S)')
    .argument('<a>', 'first operand, uint32', parseOperand)
    .argument('<b>', 'second operand, uint32', parseOperand)
    .addOption(backendOption())
    .action((a: number, b: number, opts: { backend: BackendChoice }) => {
      const { result } = runCalc(guestImage('calc'), a, b, opts.backend);
      process.stdout.write(`Result: ${result}\n`);
    });
}
