/** Runs the tsvisor CLI (bin/tsvisor.js) in a child process, for the toyvirt end-to-end tests. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendName } from '../../src/api/types.js';
import { REPO, backendSkip } from '../support.js';

export interface CliResult { status: number | null; stdout: string; stderr: string }

export const CLI_MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js');

let cliSkip: string | false | undefined;

/** Why the CLI cannot be run yet, or false (said once per test file). */
export function skipUnlessCli(): string | false {
  if (cliSkip === undefined) {
    cliSkip = existsSync(CLI_MAIN) ? false : 'dist/src/cli/main.js not built (the CLI entry point is missing)';
    if (cliSkip) console.log(`# SKIP ${cliSkip}`);
  }
  return cliSkip;
}

export function runCli(args: string[], timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'tsvisor.js'), ...args], {
    cwd: REPO, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, TSVISOR_BACKEND: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Why a backend cannot run here (said on the test output), or false. */
export function skipUnlessBackend(backend: BackendName): string | false {
  return backendSkip(backend, 'toyvirt');
}
