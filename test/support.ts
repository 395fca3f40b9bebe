/**
 * Shared test fixtures: where guest binaries are, and which backends this machine can run.
 * Backends that cannot run here are skipped with a visible message, never faked.
 */
import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Hypervisor, VmmError } from '../src/index.js';
import type { BackendName, VmExit } from '../src/index.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GUEST_BUILD = join(REPO, 'guests', 'build');

/** A flat guest binary built by `make -C guests` (guests/NAME.S -> guests/build/NAME.bin). */
/** n as four little-endian bytes (an imm32 or disp32 in hand-assembled guest code). */
export function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

export function guestBinary(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(GUEST_BUILD, `${name}.bin`)));
}

let kvmReason: string | false | undefined;

/**
 * Why KVM cannot be used here, or undefined when it can: /dev/kvm must open read-write and the
 * KVM backend must really come up (a /dev/kvm that opens but answers no KVM ioctl counts as unusable).
 */
export function kvmUnavailableReason(): string | undefined {
  if (kvmReason === undefined) {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
      Hypervisor.open({ backend: 'kvm' }).close();
      kvmReason = false;
    } catch (e) {
      if (e instanceof VmmError) kvmReason = `KVM backend does not open: ${e.message}`;
      else if ((e as NodeJS.ErrnoException).code !== undefined) kvmReason = `/dev/kvm not usable (${(e as Error).message})`;
      else throw e;
    }
  }
  return kvmReason || undefined;
}

/** For node:test's { skip } option: a visible reason string, or false to run. */
export function skipUnlessKvm(): string | false {
  const why = kvmUnavailableReason();
  if (why) console.log(`# SKIP kvm half: ${why}`);
  return why ?? false;
}

const backendSkips = new Map<BackendName, string | false>();

/**
 * For node:test's { skip } option on a test that needs a real backend: false when name opens
 * here, else the reason, printed as a "# SKIP <what> on <name>: <why>" line. An error other
 * than VmmError from Hypervisor.open is a bug, not a reason to skip: it is thrown.
 */
export function backendSkip(name: BackendName, what: string): string | false {
  if (!backendSkips.has(name)) {
    let why: string | false = name === 'kvm' ? kvmUnavailableReason() ?? false : false;
    if (!why) {
      try {
        Hypervisor.open({ backend: name }).close();
      } catch (e) {
        if (!(e instanceof VmmError)) throw e;
        why = `${name} backend does not open: ${e.message}`;
      }
    }
    backendSkips.set(name, why);
  }
  const why = backendSkips.get(name)!;
  if (why) console.log(`# SKIP ${what} on ${name}: ${why}`);
  return why;
}

const EXIT_STATE_TYPES = {
  rflags: 'bigint', cr8: 'bigint', intShadow: 'boolean', intWindowExiting: 'boolean',
  nmiWindowExiting: 'boolean', evtPending: 'boolean',
} as const;

/** The contract: every exit carries exitState with exactly these fields and types. */
export function assertExitState(e: VmExit, context = ''): void {
  const at = `${context}${e.reason} exit`;
  assert.ok(e.exitState, `${at} carries exitState`);
  assert.deepEqual(Object.keys(e.exitState).sort(), Object.keys(EXIT_STATE_TYPES).sort(), `${at}: exitState fields`);
  for (const [k, t] of Object.entries(EXIT_STATE_TYPES)) {
    assert.equal(typeof e.exitState[k as keyof typeof EXIT_STATE_TYPES], t, `${at}: exitState.${k} is a ${t}`);
  }
  assert.equal(e.exitState.rflags & 2n, 2n, `${at}: exitState.rflags has the always-one bit 1`);
}
