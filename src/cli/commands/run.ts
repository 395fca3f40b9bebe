/**
 * `tsvisor run --kernel F [--initrd F] [--append S] [--mem 256M] [--cpus 1] [--disk PATH[,ro]]...
 * [--rng] [--vsock CID,PATH] [--net user[,hostfwd=...][,outbound=on|off][,mac=M] | tap=NAME[,mac=M]]... [--backend auto|kvm|soft] [--console stdio|none] [--entry 64bit|pvh]`: boots a Linux kernel in the VM monitor
 * (src/vmm/core). The flag names follow kvmtool/QEMU and are fixed: scripts use them.
 * Exit code: 0 poweroff (or Ctrl-A x), 1 bad input or monitor failure, 2 guest crash (panic,
 * triple fault), 3 guest reboot; anything but a clean poweroff prints one line saying why.
 */
import { statSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { VmmError } from '../../api/errors.js';
import type { BackendChoice } from '../../api/types.js';
import { readImageFile } from '../../vmm/image-file.js';
import { runVm } from '../../vmm/core/launcher.js';
import { parseMemorySize } from '../../vmm/core/memory-layout.js';
import { assignMacs, parseNetSpec } from '../../vmm/core/net-config.js';
import { openNetBackend } from '../../vmm/core/net-backends.js';
import { DEFAULT_CMDLINE, kernelCmdline, type DiskConfig, type VmConfig, type VsockConfig } from '../../vmm/core/vm-config.js';
import { VSOCK_MAX_GUEST_CID, VSOCK_MIN_GUEST_CID } from '../../vmm/devices/virtio/vsock.js';
import { backendOption } from '../backend-option.js';

const MAX_KERNEL_BYTES = 512 * 2 ** 20, MAX_INITRD_BYTES = 2 ** 31;

function parseCpus(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 128) throw new InvalidArgumentError(`expected 1..128 vCPUs, got ${JSON.stringify(text)}`);
  return Number(text);
}

function collect(text: string, previous: string[]): string[] {
  return [...previous, text];
}

function parseVsock(text: string): VsockConfig {
  const comma = text.indexOf(',');
  const cid = text.slice(0, comma), path = text.slice(comma + 1);
  if (comma < 0 || !/^\d{1,10}$/.test(cid) || Number(cid) < VSOCK_MIN_GUEST_CID || Number(cid) > VSOCK_MAX_GUEST_CID || path === '') {
    throw new InvalidArgumentError(`expected CID,PATH with CID in ${VSOCK_MIN_GUEST_CID}..${VSOCK_MAX_GUEST_CID}, got ${JSON.stringify(text)}`);
  }
  return { cid: Number(cid), path };
}

function parseDisk(text: string, previous: DiskConfig[]): DiskConfig[] {
  const [path, ...flags] = text.split(',');
  if (!path) throw new InvalidArgumentError(`expected PATH[,ro], got ${JSON.stringify(text)}`);
  for (const f of flags) if (f !== 'ro') throw new InvalidArgumentError(`unknown disk option ${JSON.stringify(f)} (only "ro")`);
  return [...previous, { path, readOnly: flags.includes('ro') }];
}

/** A disk image must be there before anything boots: a regular file or a block device. */
function checkDisk(d: DiskConfig): DiskConfig {
  let st;
  try {
    st = statSync(d.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new VmmError(code === 'ENOENT' ? 'ENOENT' : 'EACCES', `cannot use disk image ${d.path}: ${code}`);
  }
  if (!st.isFile() && !st.isBlockDevice()) throw new VmmError('EINVAL', `disk image ${d.path} is not a regular file or a block device`);
  return d;
}

const NET_HELP = `
Networking (--net, once per NIC):
  user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-:GUESTPORT]...[,outbound=on|off][,mac=MAC]
      user-mode network stack in the monitor (no root, no host setup), QEMU's addresses: the guest
      gets 10.0.2.15 by DHCP, 10.0.2.2 is the gateway and reaches the host's loopback, 10.0.2.3 relays
      DNS to the host's resolver. hostfwd listens on HOSTADDR:HOSTPORT (HOSTADDR default 127.0.0.1)
      and forwards to the guest's GUESTPORT. outbound=on lets the guest reach addresses other than
      the gateway through host sockets; off (the default) refuses them.
  tap=NAME[,mac=MAC]
      an existing tap device NAME (needs /dev/net/tun and the right to attach to it).
  Each NIC without mac= gets the next of 52:54:00:12:34:56, :57, ...
`;

interface RunOptions {
  kernel: string; initrd?: string; append?: string; mem: string; cpus: number; disk: DiskConfig[];
  rng: boolean; net: string[]; vsock?: VsockConfig; backend: BackendChoice; console: 'stdio' | 'none'; entry: '64bit' | 'pvh'; verbose: boolean;
}

/** A complete run: the test guest `node scripts/linux-guest.mjs` builds, with a disk, entropy and the network. */
const EXAMPLE_HELP = `
Example (the Debian test guest built by \`node scripts/linux-guest.mjs\`; a busybox shell on the console):
  G=~/.cache/tsvisor/linux/6.1.0-57-cloud-amd64
  truncate -s 64M disk.img
  tsvisor run --kernel $G/vmlinuz --initrd $G/initramfs.cpio.gz --append "console=ttyS0 tsvisor.shell" \\
      --mem 256M --disk disk.img --rng --net user,hostfwd=tcp:127.0.0.1:8080-:80
  then in the guest:  udhcpc -i eth0; wget -O- http://10.0.2.2:8000/; httpd -h /var/www; poweroff -f
  (the host reaches the guest's httpd at 127.0.0.1:8080; poweroff ends tsvisor with exit code 0; Ctrl-A x quits)
`;

export function runCommand(): Command {
  return new Command('run')
    .description('boot a Linux kernel (bzImage or ELF vmlinux) with a serial console; poweroff in the guest ends it')
    .requiredOption('--kernel <file>', 'kernel: bzImage (payload decompressed on the host) or ELF vmlinux')
    .option('--initrd <file>', 'initial ramdisk (cpio archive, compressed or not)')
    .option('--append <cmdline>', `kernel command line (default "${DEFAULT_CMDLINE}"; panic=-1 is added unless it sets panic=)`)
    .option('--mem <size>', 'guest memory, e.g. 256M or 2G', '256M')
    .option('--cpus <n>', 'vCPUs', parseCpus, 1)
    .option('--disk <path[,ro]>', 'virtio block device backed by a raw image file (repeatable)', parseDisk, [])
    .option('--rng', 'virtio entropy device fed by the host CSPRNG', false)
    .addOption(new Option('--net <spec>', 'virtio-net NIC: user[,hostfwd=...][,outbound=on|off][,mac=MAC] or tap=NAME[,mac=MAC] (repeatable; see below)').argParser(collect).default([], 'none'))
    .addOption(backendOption())
    .addOption(new Option('--console <where>', 'the guest serial console: stdio (the terminal; Ctrl-A x quits) or none').choices(['stdio', 'none']).default('stdio'))
    .addOption(new Option('--entry <how>', 'enter the kernel through the 64-bit boot protocol or its PVH entry point (ELF note)').choices(['64bit', 'pvh']).default('64bit'))
    .option('-v, --verbose', 'say what the monitor did (boot path, sizes) on stderr', false)
    .option('--vsock <cid,path>', 'virtio-vsock with guest CID (3..4294967294); the host side is the Unix socket PATH (Firecracker protocol: connect, write "CONNECT <port>\\n", read "OK <hostport>\\n"); guest connections to host port P go to PATH_P', parseVsock)
    .addHelpText('after', NET_HELP + EXAMPLE_HELP)
    .action(async (opts: RunOptions) => {
      const disks = opts.disk.map(checkDisk);
      const nics = assignMacs(opts.net.map(parseNetSpec));
      const config: VmConfig = {
        kernel: readImageFile(opts.kernel, 'kernel', MAX_KERNEL_BYTES),
        initrd: opts.initrd === undefined ? undefined : readImageFile(opts.initrd, 'initrd', MAX_INITRD_BYTES),
        cmdline: kernelCmdline(opts.append),
        memBytes: parseMemorySize(opts.mem),
        cpus: opts.cpus, backend: opts.backend, disks, rng: opts.rng, nics, vsock: opts.vsock, entry: opts.entry,
      };
      const outcome = await runVm(config, {
        console: opts.console, openNetBackend,
        say: opts.verbose ? (line) => process.stderr.write(`tsvisor run: ${line}\n`) : undefined,
      });
      if (outcome.reason) process.stderr.write(`tsvisor run: ${outcome.reason}\n`);
      process.exitCode = outcome.code;
    });
}
