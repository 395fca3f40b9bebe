/** Runs the tsvisor CLI (bin/tsvisor.js) in a child process, for the toyvirt end-to-end tests. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support.js';

export interface CliResult { status: number | null; stdout: string; stderr: string }

export const CLI_MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js');

/** Why the CLI cannot be run yet, or false. */
export function skipUnlessCli(): string | false {
  if (existsSync(CLI_MAIN)) return false;
  const why = 'dist/src/cli/main.js not built (the CLI entry point is missing)';
  console.log(`# SKIP ${why}`);
  return why;
}

export function runCli(args: string[], timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'tsvisor.js'), ...args], {
    cwd: REPO, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, TSVISOR_BACKEND: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
