/**
 * `tsvisor toyvirt [elf] [--interval ms] [--backend auto|kvm|soft]`: runs a 64-bit ELF kernel (the
 * shipped smallkern by default)
 * under toyvirt (src/vmm/toyvirt.ts). A bad image or a failure is a VmmError, which main.ts
 * prints as one line with exit code 1.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { BackendChoice } from '../../api/types.js';
import { readImageFile } from '../../vmm/image-file.js';
import { DEFAULT_INTERVAL_MS, runToyvirt } from '../../vmm/toyvirt.js';
import { backendOption } from '../backend-option.js';
import { shippedGuestPath } from '../guest-image.js';

function parseInterval(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`expected whole milliseconds, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** toyvirt maps the image below the LAPIC page (4 GiB - 20 MiB): no bigger file can be valid. */
const MAX_ELF_BYTES = 1 << 30;

export function toyvirtCommand(): Command {
  return new Command('toyvirt')
    .description('run a 64-bit ELF kernel (default: the smallkern shipped with tsvisor) in a VM with a console, a LAPIC and injected events')
    .argument('[elf]', '64-bit ELF executable; PT_LOAD segments are placed at p_vaddr as guest-physical addresses', shippedGuestPath('smallkern'))
    .option('--interval <ms>', 'milliseconds between injected events (#GP, NMI, interrupt 200, in turn)', parseInterval, DEFAULT_INTERVAL_MS)
    .addOption(backendOption())
    .action(async (elf: string, opts: { interval: number; backend: BackendChoice }) => {
      await runToyvirt(readImageFile(elf, 'ELF file', MAX_ELF_BYTES), { intervalMs: opts.interval, backend: opts.backend });
    });
}
