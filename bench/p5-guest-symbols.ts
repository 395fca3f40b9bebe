/**
 * P5 helper script: names the guest RIP samples of bench/p5-boot-inthread.ts (P5_RIP_SAMPLES)
 * with the guest kernel's symbols, and prints the top functions before and after `Run /init`.
 *
 * Usage: node dist/bench/p5-guest-symbols.js SAMPLES.json KALLSYMS [N=15]
 * KALLSYMS: the guest's /proc/kallsyms ("address type name [module]" lines; other lines, such
 * as console noise around a captured copy, are skipped). Take it from a boot with `nokaslr`;
 * tsvisor loads the kernel's payload at its link address (no decompressor, so no KASLR).
 */
import { readFileSync } from 'node:fs';

interface Sym { address: bigint; name: string }

function textSymbols(file: string): Sym[] {
  const syms: Sym[] = [];
  for (const line of readFileSync(file, 'latin1').split(/\r?\n/)) {
    const m = /^([0-9a-f]{16}) [tTwW] (\S+)(?:\s+\[(\S+)\])?\s*$/.exec(line);
    if (m) syms.push({ address: BigInt(`0x${m[1]}`), name: m[3] ? `${m[2]} [${m[3]}]` : m[2]! });
  }
  return syms.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** The symbol at or below address (binary search), or undefined below the first. */
function symbolAt(syms: readonly Sym[], address: bigint): Sym | undefined {
  let lo = 0, hi = syms.length - 1, found: Sym | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid]!.address <= address) { found = syms[mid]; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function report(title: string, samples: Record<string, number>, syms: readonly Sym[], top: number): void {
  const byName = new Map<string, number>();
  let total = 0;
  for (const [rip, n] of Object.entries(samples)) {
    const address = BigInt(`0x${rip}`);
    const s = symbolAt(syms, address);
    // Far past the last kernel symbol or below the first: user space or unnamed code.
    const name = s && address - s.address < 0x100000n ? s.name : address < 0x800000000000n ? '(user space)' : '(unknown)';
    byName.set(name, (byName.get(name) ?? 0) + n);
    total += n;
  }
  console.log(`${title}: ${total} samples`);
  for (const [name, n] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${String(n).padStart(7)} ${(100 * n / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}

function main(): void {
  const [samplesFile, kallsyms, count] = process.argv.slice(2);
  if (!samplesFile || !kallsyms) throw new Error('usage: p5-guest-symbols.js SAMPLES.json KALLSYMS [N]');
  const samples = JSON.parse(readFileSync(samplesFile, 'utf8')) as { toInit: Record<string, number>; afterInit: Record<string, number> };
  const syms = textSymbols(kallsyms);
  if (syms.length === 0) throw new Error(`${kallsyms}: no text symbols ("address t name" lines)`);
  const top = Number(count ?? 15);
  report('guest functions, boot to Run /init', samples.toInit, syms, top);
  report('guest functions, Run /init to poweroff', samples.afterInit, syms, top);
}

main();
