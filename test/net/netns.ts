/**
 * A network namespace with a tap device attached to a NetBackend of this process: the tap is
 * created in the root namespace, attached (openTap), then moved into the namespace, where it is
 * configured as the guest (10.0.2.15/24, default route via 10.0.2.2). The Linux stack in that
 * namespace then plays the guest against the user network. Needs root, /dev/net/tun and `ip`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import { openTap } from '../../src/vmm/net/tap.js';
import type { TapBackend } from '../../src/vmm/net/tap.js';

const run = promisify(execFile);

/** Why a namespace test cannot run here, or undefined when it can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespace tests need root';
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is not usable here';
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'pipe' });
  } catch {
    return "the 'ip' tool (iproute2) is not installed";
  }
  const probe = `tsvprobe${process.pid % 100000}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

export class GuestNamespace {
  readonly tap: TapBackend;

  private constructor(readonly ns: string, readonly tapName: string, tap: TapBackend) {
    this.tap = tap;
  }

  static async create(tag: string): Promise<GuestNamespace> {
    const ns = `tsv${tag}${process.pid % 100000}`;
    const tapName = `tsvt${tag}${process.pid % 10000}`.slice(0, 15);
    await run('ip', ['tuntap', 'add', 'dev', tapName, 'mode', 'tap']);
    let tap: TapBackend | undefined;
    try {
      await run('ip', ['netns', 'add', ns]);
      tap = openTap(tapName);
      await run('ip', ['link', 'set', tapName, 'netns', ns]);
      const g = new GuestNamespace(ns, tapName, tap);
      await g.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      await g.exec('ip', ['link', 'set', 'lo', 'up']);
      await g.exec('ip', ['link', 'set', tapName, 'up']);
      return g;
    } catch (e) {
      await tap?.close();
      await run('ip', ['link', 'del', tapName]).catch(() => undefined);
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
      throw e;
    }
  }

  /** Static configuration as the guest would have after DHCP. */
  async configureStatic(): Promise<void> {
    await this.exec('ip', ['addr', 'add', '10.0.2.15/24', 'dev', this.tapName]);
    await this.exec('ip', ['route', 'add', 'default', 'via', '10.0.2.2']);
  }

  /** Runs a program inside the namespace (asynchronously: the stack under test runs on this event loop). */
  async exec(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
    const r = await run('ip', ['netns', 'exec', this.ns, file, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return r.stdout;
  }

  async destroy(): Promise<void> {
    await this.tap.close();
    // Deleting the namespace deletes the tap in it.
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
  }
}
