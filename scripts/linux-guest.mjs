#!/usr/bin/env node
// Assembles a Linux test guest from Debian packages: the distribution's cloud kernel (vmlinuz and
// its virtio modules) and busybox-static, packed into a gzip'd newc initramfs whose /init loads
// the modules and says so on the console. Cached outside the repo and idempotent: a second run
// finds the finished guest and only prints it.
//
// Usage: node scripts/linux-guest.mjs [--quiet]
// Kernel: the newest linux-image-6.1.0-N-cloud-amd64 (Debian 12's own kernel series), or the exact
// package named by $TSVISOR_LINUX_PACKAGE (e.g. a linux-image-6.12.*-cloud-amd64).
// Cache: $TSVISOR_LINUX_CACHE, else ~/.cache/tsvisor/linux. Needs apt-get and dpkg-deb (Debian);
// runs `apt-get update` once when apt knows no cloud kernel yet (as root).
// A cached guest is rebuilt when the initramfs recipe (init, scripts, modules wanted, the source of
// the guest tools) changed: its manifest records a hash of them.
// Guest tools: guests/linux/vsock-echo.c is built with the host's gcc (-static; needs libc6-dev's
// libc.a) and goes in as /bin/vsock-echo (busybox has no vsock client).
// Prints one JSON line on stdout: { kernelVersion, package, vmlinuz, initramfs, modules, dir, recipe }.
// Exits 2 with one line on stderr when the packages cannot be had.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const quiet = process.argv.includes('--quiet');
const cacheRoot = process.env.TSVISOR_LINUX_CACHE || join(homedir(), '.cache', 'tsvisor', 'linux');
/** The virtio drivers a tsvisor guest may meet; their dependencies are added from .modinfo. */
const WANTED_MODULES = ['virtio_pci', 'virtio_mmio', 'virtio_blk', 'virtio_net', 'virtio_console', 'virtio-rng', 'vmw_vsock_virtio_transport'];
const MANIFEST = 'manifest.json';
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** C programs compiled statically for the guest: [path in the initramfs, source in the repo]. */
const GUEST_TOOLS = [['bin/vsock-echo', join(REPO, 'guests', 'linux', 'vsock-echo.c')]];

function log(msg) {
  if (!quiet) process.stderr.write(`linux-guest: ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`linux-guest: ${msg}\n`);
  process.exit(2);
}

/** When apt cannot say which kernel is current, a guest built earlier still serves. */
function failOrCached(msg) {
  const dirs = existsSync(cacheRoot) ? readdirSync(cacheRoot).filter((d) => existsSync(join(cacheRoot, d, MANIFEST))) : [];
  const wanted = process.env.TSVISOR_LINUX_PACKAGE;
  const usable = dirs.filter((d) => (wanted ? `linux-image-${d}` === wanted : /^6\.1\.0-\d+-cloud-amd64$/.test(d)));
  if (usable.length === 0) fail(msg);
  const dir = join(cacheRoot, usable.sort(compareVersions).pop());
  log(`${msg}; using the guest cached in ${dir}`);
  process.stdout.write(readFileSync(join(dir, MANIFEST), 'utf8'));
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.error) return { ok: false, out: '', err: r.error.message };
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() };
}

/** The newest linux-image-6.1.0-N-cloud-amd64 apt knows, updating the lists once if it knows none. */
function findKernelPackage() {
  const wanted = process.env.TSVISOR_LINUX_PACKAGE;
  const pattern = wanted ? `^${wanted.replace(/[.+]/g, '\\$&')}$` : '^linux-image-6\\.1\\.0-[0-9]+-cloud-amd64$';
  const search = () => run('apt-cache', ['search', '--names-only', pattern]);
  let r = search();
  if (!r.ok && r.err) failOrCached(`apt-cache failed: ${r.err}`);
  let names = parseNames(r.out);
  if (names.length === 0) {
    log('no cloud kernel in the apt lists; running apt-get update');
    const u = run('apt-get', ['update', '-qq']);
    if (!u.ok) failOrCached(`apt-get update failed: ${u.err.split('\n').pop()}`);
    names = parseNames(search().out);
  }
  if (names.length === 0) failOrCached(`apt knows no package matching ${pattern} (not a Debian 12 system with its archive reachable?)`);
  return names.sort(compareVersions).pop();
}

function parseNames(out) {
  return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => /^linux-image-[0-9][^ ]*-cloud-amd64$/.test(n ?? ''));
}

function compareVersions(a, b) {
  const pa = a.match(/\d+/g).map(Number), pb = b.match(/\d+/g).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  }
  return 0;
}

function download(pkg, dir) {
  // apt's sandbox user cannot write into a root-only temporary directory; that warning is harmless.
  const r = run('apt-get', ['download', '-qq', pkg], { cwd: dir });
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg.replace(/\+/g, '%2b')}_`) || f.startsWith(`${pkg}_`));
  if (!r.ok || !deb) fail(`apt-get download ${pkg} failed: ${r.err.split('\n').pop() || 'no .deb appeared'}`);
  return join(dir, deb);
}

function extract(deb, into) {
  const r = run('dpkg-deb', ['-x', deb, into]);
  if (!r.ok) fail(`dpkg-deb -x ${deb} failed: ${r.err}`);
}

/** A module file's ELF bytes; distributions may ship them xz-, zstd- or gzip-compressed. */
function readModule(file) {
  if (file.endsWith('.gz')) return gunzipSync(readFileSync(file));
  const tool = file.endsWith('.xz') ? 'xz' : file.endsWith('.zst') ? 'zstd' : undefined;
  if (!tool) return readFileSync(file);
  const r = spawnSync(tool, ['-dc', file], { maxBuffer: 1 << 28 });
  if (r.error || r.status !== 0) fail(`cannot decompress ${file} with ${tool}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** The "depends=" list from a module's .modinfo section (ELF64 section headers). */
function moduleDepends(file) {
  const b = readModule(file);
  const shoff = Number(b.readBigUInt64LE(0x28)), shentsize = b.readUInt16LE(0x3a), shnum = b.readUInt16LE(0x3c), shstrndx = b.readUInt16LE(0x3e);
  const sec = (i) => ({ name: b.readUInt32LE(shoff + i * shentsize), off: Number(b.readBigUInt64LE(shoff + i * shentsize + 0x18)), size: Number(b.readBigUInt64LE(shoff + i * shentsize + 0x20)) });
  const strtab = sec(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    const nameEnd = b.indexOf(0, strtab.off + s.name);
    if (b.toString('latin1', strtab.off + s.name, nameEnd) !== '.modinfo') continue;
    for (const entry of b.toString('latin1', s.off, s.off + s.size).split('\0')) {
      if (entry.startsWith('depends=')) return entry.slice(8).split(',').filter(Boolean);
    }
    return [];
  }
  return [];
}

/** Module name -> path under the modules tree (names treat - and _ alike, as modprobe does). */
function indexModules(dir) {
  const index = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const m = name.match(/^(.*)\.ko(\.xz|\.zst|\.gz)?$/);
        if (m) index.set(m[1].replace(/-/g, '_'), p);
      }
    }
  };
  walk(dir);
  return index;
}

/** Names of the modules built into the kernel (modules.builtin lists their paths). */
function builtinModules(dir) {
  const f = join(dir, 'modules.builtin');
  if (!existsSync(f)) return new Set();
  return new Set(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split('/').pop().replace(/\.ko$/, '').replace(/-/g, '_')));
}

/** The wanted modules and everything they depend on, dependencies first; built-in ones are skipped. */
function moduleClosure(index, builtin) {
  const order = [], seen = new Set();
  const visit = (name) => {
    const key = name.replace(/-/g, '_');
    if (seen.has(key) || builtin.has(key)) return;
    seen.add(key);
    const path = index.get(key);
    if (!path) fail(`module ${name} is not in the kernel package (built in, or renamed?)`);
    for (const dep of moduleDepends(path)) visit(dep);
    order.push(key);
  };
  WANTED_MODULES.forEach(visit);
  return order;
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "tsvisor-guest: init on $(uname -r)"
for m in $(cat /etc/modules-order); do
  if insmod "/lib/modules/$m.ko"; then echo "tsvisor-guest: loaded $m"; else echo "tsvisor-guest: FAILED $m"; fi
done
echo TSVISOR-GUEST-READY
case " $(cat /proc/cmdline) " in
  *" tsvisor.shell "*) exec setsid cttyhack sh ;;
esac
poweroff -f
`;

/**
 * What busybox udhcpc runs (Debian's busybox looks for /etc/udhcpc/default.script; upstream's
 * default is /usr/share/udhcpc/default.script, so it is at both) with $1 = deconfig | bound | renew | leasefail | nak and the lease in
 * its environment ($interface, $ip, $subnet, $router, $dns): configures the interface, the default
 * route and the resolver, and says what it did on the console.
 */
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    ifconfig "$interface" 0.0.0.0 up
    ;;
  bound|renew)
    ifconfig "$interface" "$ip" netmask "\${subnet:-255.255.255.0}" up
    while route del default dev "$interface" 2>/dev/null; do :; done
    for r in $router; do route add default gw "$r" dev "$interface"; done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "tsvisor-guest: $1 $interface $ip/\${subnet} router $router dns $dns"
    ;;
  leasefail|nak)
    echo "tsvisor-guest: udhcpc $1 on $interface"
    ;;
esac
exit 0
`;

/** Files the initramfs gets besides busybox and the modules (path, mode, text). */
const EXTRA_FILES = [
  ['etc/udhcpc/default.script', 0o755, UDHCPC_SCRIPT],
  ['usr/share/udhcpc/default.script', 0o755, UDHCPC_SCRIPT],
];
const EXTRA_DIRS = ['etc/udhcpc', 'usr', 'usr/share', 'usr/share/udhcpc', 'var', 'var/www', 'root'];

function readToolSource(file) {
  if (!existsSync(file)) fail(`the guest tool source ${file} is missing`);
  return readFileSync(file, 'utf8');
}
const TOOL_SOURCES = GUEST_TOOLS.map(([name, file]) => [name, readToolSource(file)]);

/** Changes to what goes into the initramfs change this, and a cached guest with another recipe is rebuilt. */
const RECIPE = createHash('sha256').update(JSON.stringify({ INIT, EXTRA_FILES, EXTRA_DIRS, WANTED_MODULES, TOOL_SOURCES, layout: 2 })).digest('hex').slice(0, 16);

/** Compiles each guest tool into dir with the host's gcc; returns [path in the initramfs, ELF bytes]. */
function buildGuestTools(dir) {
  return GUEST_TOOLS.map(([name, source]) => {
    const out = join(dir, name.split('/').pop());
    const r = run('gcc', ['-static', '-O2', '-s', '-Wall', '-o', out, source]);
    if (!r.ok && /ENOENT/.test(r.err)) fail(`gcc not found: ${source} is compiled for the guest with the host's gcc (apt-get install gcc libc6-dev)`);
    if (!r.ok) fail(`gcc -static ${source} failed (a static link needs libc6-dev's libc.a): ${r.err}`);
    return [name, readFileSync(out)];
  });
}

/** newc cpio (the format the kernel unpacks for an initramfs): one entry per file, dir, link, node. */
function cpioNewc(entries) {
  const parts = [];
  let ino = 1;
  const hex8 = (n) => n.toString(16).padStart(8, '0');
  const pad4 = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  const push = (name, mode, data, rdev = [0, 0]) => {
    const nameBuf = Buffer.from(name + '\0');
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
    const header = Buffer.from('070701' + fields.map(hex8).join(''));
    parts.push(header, nameBuf, pad4(header.length + nameBuf.length), data, pad4(data.length));
  };
  for (const e of entries) push(e.name, e.mode, e.data ?? Buffer.alloc(0), e.rdev);
  push('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

function buildInitramfs(busyboxRoot, index, modules, tools) {
  const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;
  const entries = ['bin', 'sbin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'lib', 'lib/modules', ...EXTRA_DIRS].map((d) => ({ name: d, mode: S_IFDIR | 0o755 }));
  entries.push({ name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] });
  const busybox = join(busyboxRoot, 'bin', 'busybox');
  if (!existsSync(busybox)) fail('busybox-static has no /bin/busybox');
  entries.push({ name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(busybox) });
  entries.push({ name: 'bin/sh', mode: S_IFLNK | 0o777, data: Buffer.from('busybox') });
  entries.push({ name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(INIT) });
  for (const [name, mode, text] of EXTRA_FILES) entries.push({ name, mode: S_IFREG | mode, data: Buffer.from(text) });
  for (const [name, data] of tools) entries.push({ name, mode: S_IFREG | 0o755, data });
  entries.push({ name: 'etc/modules-order', mode: S_IFREG | 0o644, data: Buffer.from(modules.join('\n') + '\n') });
  for (const m of modules) entries.push({ name: `lib/modules/${m}.ko`, mode: S_IFREG | 0o644, data: readModule(index.get(m)) });
  return gzipSync(cpioNewc(entries), { level: 9 });
}

function main() {
  mkdirSync(cacheRoot, { recursive: true });
  const pkg = findKernelPackage();
  const kernelVersion = pkg.replace(/^linux-image-/, '');
  const dir = join(cacheRoot, kernelVersion);
  const manifestPath = join(dir, MANIFEST);
  if (existsSync(manifestPath)) {
    const text = readFileSync(manifestPath, 'utf8');
    if (JSON.parse(text).recipe === RECIPE) {
      log(`cached: ${dir}`);
      process.stdout.write(text);
      return;
    }
    log(`cached guest in ${dir} has an older initramfs recipe; rebuilding`);
  }
  const work = mkdtempSync(join(cacheRoot, '.build-'));
  try {
    // The tools first: a missing compiler fails before any download.
    const tools = buildGuestTools(work);
    log(`downloading ${pkg} and busybox-static`);
    const kdeb = download(pkg, work), bdeb = download('busybox-static', work);
    extract(kdeb, join(work, 'kernel'));
    extract(bdeb, join(work, 'busybox'));
    const vmlinuz = join(work, 'kernel', 'boot', `vmlinuz-${kernelVersion}`);
    if (!existsSync(vmlinuz)) fail(`${pkg} has no /boot/vmlinuz-${kernelVersion}`);
    const modDir = join(work, 'kernel', 'lib', 'modules', kernelVersion);
    const index = indexModules(modDir);
    const modules = moduleClosure(index, builtinModules(modDir));
    log(`initramfs with busybox, ${tools.map(([name]) => name).join(' ')} and ${modules.length} modules: ${modules.join(' ')}`);
    const out = join(work, 'out');
    mkdirSync(out);
    copyFileSync(vmlinuz, join(out, 'vmlinuz'));
    writeFileSync(join(out, 'initramfs.cpio.gz'), buildInitramfs(join(work, 'busybox'), index, modules, tools));
    const manifest = { kernelVersion, package: pkg, vmlinuz: join(dir, 'vmlinuz'), initramfs: join(dir, 'initramfs.cpio.gz'), modules, dir, recipe: RECIPE };
    writeFileSync(join(out, MANIFEST), JSON.stringify(manifest) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir); // appears whole or not at all
    log(`built ${dir}`);
    process.stdout.write(JSON.stringify(manifest) + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
