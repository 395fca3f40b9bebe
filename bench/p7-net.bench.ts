/**
 * P7: TCP through user-mode networking, tsvisor (`tsvisor run --backend soft --net user,hostfwd=...`,
 * virtio-net behind the TypeScript stack) side by side with QEMU TCG (`-netdev user` = slirp,
 * `-device virtio-net-pci`) in the same run, on the same guest: the Debian cloud kernel and busybox
 * initramfs of scripts/linux-guest.mjs, command line "console=ttyS0 tsvisor.shell" (a shell on the
 * serial console), 256 MiB, one vCPU.
 *
 * Per side: boot to the shell prompt, `udhcpc -i eth0` (10.0.2.15 from 10.0.2.2 on both), then
 * (bench/p7-transfers.ts) P7_MIB MiB (default 64) host -> guest through hostfwd and the same bytes
 * guest -> host to 10.0.2.2 with `busybox nc`, checked by length and SHA-256; then P7_CONNECTS
 * (default 20) sequential connects through hostfwd to a guest `nc -ll -e /bin/echo x`, median
 * time to the guest's first byte. Throughput is wall-clock MiB/s (higher is better), with the VMM
 * process's CPU seconds per MiB beside it (lower is better; it is less skewed by other load on a
 * shared machine). The soft backend runs ~20 MIPS, so P7_MIB=4 is a quick run.
 * ratio = tsvisor / QEMU. The sides run one after the other, never together.
 * P7_ONLY=qemu runs the QEMU side alone (text lines only, no figures), for checking the set-up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GuestConsole } from './p7-guest-console.js';
import { connectLatency, freePort, LATENCY_PORT, pattern, pullFromGuest, pushToGuest, RX_PORT, type Span } from './p7-transfers.js';

const MIB = Number(process.env.P7_MIB ?? 64);
const CONNECTS = Number(process.env.P7_CONNECTS ?? 20);
const QEMU = '/usr/bin/qemu-system-x86_64';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CMDLINE = 'console=ttyS0 tsvisor.shell';
const BOOT_LIMIT_MS = 15 * 60_000;
/** Generous: soft moves well under 1 MiB/s on a loaded machine. */
const TRANSFER_LIMIT_MS = Math.max(10 * 60_000, MIB * 60_000);

interface Guest { vmlinuz: string; initramfs: string; kernelVersion: string }

interface SideResult { push: Span; pull: Span; latency: { medianMs: number; cpuMsEach: number; all: number[] }; bootS: number }

function guest(): Guest | undefined {
  const r = spawnSync(process.execPath, [`${ROOT}scripts/linux-guest.mjs`, '--quiet'], { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) {
    console.log(`p7-net: SKIP: no Linux guest (scripts/linux-guest.mjs: ${(r.stderr || r.error?.message || '').trim()})`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Guest;
}

/** Why QEMU cannot be the reference, or undefined when it can (installed, with user networking). */
function qemuMissing(): string | undefined {
  if (!existsSync(QEMU)) return `${QEMU} not installed (apt-get install -y qemu-system-x86)`;
  const r = spawnSync(QEMU, ['-netdev', 'help'], { encoding: 'utf8' });
  if (r.status !== 0 || !/^user$/m.test(r.stdout)) return `${QEMU} has no user networking (slirp): -netdev help says ${JSON.stringify((r.stdout + r.stderr).trim())}`;
  return undefined;
}

async function measure(g: GuestConsole, hostPorts: { rx: number; echo: number }, data: Uint8Array): Promise<SideResult> {
  try {
    const t0 = Date.now();
    await g.waitFor(/\/ # /, BOOT_LIMIT_MS);
    const bootS = (Date.now() - t0) / 1000;
    g.type('udhcpc -i eth0 -q -n -t 10; echo DHCP-$((40+2))');
    const lease = await g.waitFor(/bound eth0 (\S+)[\s\S]*?DHCP-42/, 120_000);
    if (!lease[1]!.startsWith('10.0.2.15/')) throw new Error(`${g.name}: unexpected lease ${lease[1]}`);
    const push = await pushToGuest(g, hostPorts.rx, data, TRANSFER_LIMIT_MS);
    console.log(`p7-net: ${g.name}: host->guest ${push.bytes} bytes in ${push.wallS.toFixed(2)} s wall, ${push.cpuS.toFixed(2)} s VMM CPU (${push.threads})`);
    const pull = await pullFromGuest(g, data, TRANSFER_LIMIT_MS);
    console.log(`p7-net: ${g.name}: guest->host ${pull.bytes} bytes in ${pull.wallS.toFixed(2)} s wall, ${pull.cpuS.toFixed(2)} s VMM CPU (${pull.threads}); SHA-256 equal`);
    const latency = await connectLatency(g, hostPorts.echo, CONNECTS);
    console.log(`p7-net: ${g.name}: ${CONNECTS} hostfwd connects, ms to first byte: ${latency.all.map((x) => x.toFixed(1)).join(' ')}`);
    return { push, pull, latency, bootS };
  } finally {
    await g.kill();
  }
}

async function runTsvisor(g: Guest, data: Uint8Array): Promise<SideResult> {
  const rx = await freePort(), echo = await freePort();
  const con = new GuestConsole('tsvisor (soft)', process.execPath, [`${ROOT}bin/tsvisor.js`, 'run', '--kernel', g.vmlinuz, '--initrd', g.initramfs,
    '--append', CMDLINE, '--mem', '256M', '--backend', 'soft',
    '--net', `user,hostfwd=tcp:127.0.0.1:${rx}-:${RX_PORT},hostfwd=tcp:127.0.0.1:${echo}-:${LATENCY_PORT}`]);
  return measure(con, { rx, echo }, data);
}

async function runQemu(g: Guest, data: Uint8Array): Promise<SideResult> {
  const rx = await freePort(), echo = await freePort();
  const con = new GuestConsole('QEMU TCG', QEMU, ['-machine', 'q35', '-accel', 'tcg', '-m', '256M', '-smp', '1', '-nographic', '-monitor', 'none',
    '-no-reboot', '-vga', 'none', '-kernel', g.vmlinuz, '-initrd', g.initramfs, '-append', CMDLINE,
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${rx}-:${RX_PORT},hostfwd=tcp:127.0.0.1:${echo}-:${LATENCY_PORT}`,
    '-device', 'virtio-net-pci,netdev=n0']);
  return measure(con, { rx, echo }, data);
}

function line(figure: string, tsvisor: number, reference: number | null, unit: string): void {
  console.log(JSON.stringify({
    figure, tsvisor: +tsvisor.toFixed(3), reference: reference === null ? null : +reference.toFixed(3), unit,
    ratio: reference === null ? null : +(tsvisor / reference).toFixed(4),
  }));
}

async function main(): Promise<void> {
  if (!(MIB > 0) || !(CONNECTS > 0)) throw new Error(`P7_MIB (${process.env.P7_MIB}) and P7_CONNECTS (${process.env.P7_CONNECTS}) must be positive numbers`);
  const g = guest();
  if (!g) return;
  const missing = qemuMissing();
  if (missing) console.log(`p7-net: SKIP reference: ${missing}`);
  const data = pattern(Math.round(MIB * 2 ** 20));
  if (process.env.P7_ONLY === 'qemu') {
    if (missing) throw new Error(`P7_ONLY=qemu: ${missing}`);
    await runQemu(g, data);
    return;
  }
  const s = await runTsvisor(g, data);
  const q = missing ? undefined : await runQemu(g, data);
  const mib = data.length / 2 ** 20;
  console.log(`p7-net: ${g.kernelVersion}, "${CMDLINE}", ${mib} MiB each way (P7_MIB), ${CONNECTS} connects (P7_CONNECTS); ` +
    `shell prompt after ${s.bootS.toFixed(1)} s (tsvisor)${q ? `, ${q.bootS.toFixed(1)} s (QEMU)` : ''}`);
  const vs = q ? ' vs QEMU TCG slirp' : ' (QEMU TCG reference absent)';
  line(`p7 TCP host->guest via hostfwd, busybox nc, ${mib} MiB, wall${vs}`, mib / s.push.wallS, q ? mib / q.push.wallS : null, 'MiB/s');
  line(`p7 TCP guest->host to 10.0.2.2, busybox nc, ${mib} MiB, wall${vs}`, mib / s.pull.wallS, q ? mib / q.pull.wallS : null, 'MiB/s');
  line(`p7 TCP host->guest, VMM CPU per MiB${vs}`, s.push.cpuS / mib, q ? q.push.cpuS / mib : null, 's/MiB');
  line(`p7 TCP guest->host, VMM CPU per MiB${vs}`, s.pull.cpuS / mib, q ? q.pull.cpuS / mib : null, 's/MiB');
  line(`p7 hostfwd connect to first byte from guest nc -ll -e (fork+exec), median of ${CONNECTS}${vs}`, s.latency.medianMs, q?.latency.medianMs ?? null, 'ms');
  line(`p7 hostfwd connect, VMM CPU per connection${vs}`, s.latency.cpuMsEach, q?.latency.cpuMsEach ?? null, 'ms');
}

await main();
