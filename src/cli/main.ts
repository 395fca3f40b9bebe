/**
 * The `tsvisor` command (bin/tsvisor.js imports this). Each command lives in commands/<name>.ts
 * and exports a factory; adding a command is one line in COMMANDS.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { VmmError } from '../api/errors.js';
import { calcCommand } from './commands/calc.js';
import { identifyCommand } from './commands/identify.js';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { toyvirtCommand } from './commands/toyvirt.js';

const COMMANDS: (() => Command)[] = [identifyCommand, listCommand, calcCommand, toyvirtCommand, runCommand];

/** dist/src/cli/ -> the package root's package.json. */
const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('tsvisor')
  .description('a hypervisor platform for TypeScript (NVMM design): KVM and soft x86-64 backends')
  .version(PACKAGE.version)
  .showHelpAfterError();
for (const make of COMMANDS) program.addCommand(make());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // API misuse and unusable backends are one line on stderr, not a stack trace.
  if (!(e instanceof VmmError)) throw e;
  process.stderr.write(`tsvisor ${program.args[0] ?? ''}: ${e.message}\n`);
  process.exitCode = 1;
}
