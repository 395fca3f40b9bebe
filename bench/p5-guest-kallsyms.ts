/**
 * P5 helper script: the guest kernel's symbol table, for bench/p5-guest-symbols.ts. Debian's
 * linux-image package ships no System.map (only the -dbg package has it), so this boots the
 * guest of scripts/linux-guest.mjs with `nokaslr tsvisor.shell` (its /init then opens a shell),
 * asks for /proc/kallsyms over the serial console and writes the symbol lines to OUT.
 * Boots in QEMU TCG when installed (3 s), else `tsvisor run --backend soft` (about a minute).
 *
 * Usage: node dist/bench/p5-guest-kallsyms.js OUT
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const QEMU = '/usr/bin/qemu-system-x86_64';
const CMDLINE = 'console=ttyS0 panic=-1 nokaslr tsvisor.shell';
const END = 'P5-KALLSYMS-END';
const TIMEOUT_MS = 10 * 60_000;

function main(): void {
  const out = process.argv[2];
  if (!out) throw new Error('usage: p5-guest-kallsyms.js OUT');
  const g = spawnSync(process.execPath, [`${ROOT}scripts/linux-guest.mjs`, '--quiet'], { encoding: 'utf8' });
  if (g.status !== 0) throw new Error(`no Linux guest: ${g.stderr.trim()}`);
  const { vmlinuz, initramfs } = JSON.parse(g.stdout) as { vmlinuz: string; initramfs: string };
  const [cmd, args] = existsSync(QEMU)
    ? [QEMU, ['-machine', 'q35', '-accel', 'tcg', '-m', '256M', '-nographic', '-monitor', 'none', '-no-reboot', '-vga', 'none',
      '-nic', 'none', '-kernel', vmlinuz, '-initrd', initramfs, '-append', CMDLINE]]
    : [process.execPath, [`${ROOT}bin/tsvisor.js`, 'run', '--kernel', vmlinuz, '--initrd', initramfs, '--append', CMDLINE, '--backend', 'soft']];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  let text = '';
  let asked = false;
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    // /init prints READY, then execs the shell: ask once it is there.
    if (!asked && text.includes('TSVISOR-GUEST-READY')) {
      asked = true;
      setTimeout(() => child.stdin.write(`cat /proc/kallsyms; echo ${END.slice(0, 3)}''${END.slice(3)}; poweroff -f\n`), 1000);
    }
  });
  child.on('close', (code) => {
    clearTimeout(timer);
    const lines = text.split(/\r?\n/).filter((l) => /^[0-9a-f]{16} \S \S+/.test(l));
    if (!text.includes(END) || lines.length === 0) {
      process.stderr.write(`p5-guest-kallsyms: no symbol table from the guest (exit ${code})\n${text.slice(-2000)}\n`);
      process.exit(1);
    }
    writeFileSync(out, `${lines.join('\n')}\n`);
    console.log(`p5-guest-kallsyms: ${lines.length} symbols to ${out}`);
  });
}

main();
