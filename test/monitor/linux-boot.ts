/**
 * Booting the Debian test guest under `tsvisor run` for the monitor's end-to-end tests: a shell on
 * the console; once its prompt shows, a script is typed (which must end the run). Each boot is in a
 * test file of its own, so that the runner's per-file time limit covers one boot.
 */
import { spawn } from 'node:child_process';
import { linuxGuest } from '../loader/linux-guest.js';
import { BIN } from '../cli/run-cli.js';
import { backendSkip } from '../support.js';

export const guest = linuxGuest();
export const bootSkip: string | false = typeof guest === 'string' ? guest : backendSkip('soft', 'tsvisor run');
export const BOOT_LIMIT_MS = 400_000;
const PROMPT = '/ # ';

export interface Boot { status: number | null; stdout: string; stderr: string }

export function boot(extraArgs: string[], script: string): Promise<Boot> {
  if (typeof guest === 'string') throw new Error(guest);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--kernel', guest.vmlinuz, '--initrd', guest.initramfs, '--backend', 'soft',
      '--append', 'console=ttyS0 tsvisor.shell', ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', typed = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no end after ${BOOT_LIMIT_MS} ms; output so far:\n${stdout.slice(-3000)}\n${stderr}`)); }, BOOT_LIMIT_MS);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      if (!typed && stdout.includes(PROMPT)) {
        typed = true;
        child.stdin.write(script);
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
