/**
 * The `tsvisor` command (bin/tsvisor.js imports this). Each command lives in commands/<name>.ts
 * and exports a factory; adding a command is one line in COMMANDS.
 *
 * Only the command named on the command line is loaded (help, --version and unknown names load
 * them all): `tsvisor run` keeps the soft CPU out of the main thread, whose vCPU worker loads it,
 * and starts ~0.3 s of CPU sooner.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { VmmError } from '../api/errors.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  identify: async () => (await import('./commands/identify.js')).identifyCommand(),
  list: async () => (await import('./commands/list.js')).listCommand(),
  calc: async () => (await import('./commands/calc.js')).calcCommand(),
  toyvirt: async () => (await import('./commands/toyvirt.js')).toyvirtCommand(),
  run: async () => (await import('./commands/run.js')).runCommand(),
};

/** dist/src/cli/ -> the package root's package.json. */
const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('tsvisor')
  .description('a hypervisor platform for TypeScript (NVMM design): KVM and soft x86-64 backends')
  .version(PACKAGE.version)
  .showHelpAfterError();
const named = process.argv[2];
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
for (const name of wanted) program.addCommand(await COMMANDS[name]!());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // API misuse and unusable backends are one line on stderr, not a stack trace.
  if (!(e instanceof VmmError)) throw e;
  process.stderr.write(`tsvisor ${program.args[0] ?? ''}: ${e.message}\n`);
  process.exitCode = 1;
}
