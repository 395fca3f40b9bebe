/** Runs the built `tsvisor` bin in a child process, the way a user does. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support.js';

export const BIN = join(REPO, 'bin', 'tsvisor.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function tsvisor(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
