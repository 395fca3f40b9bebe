/**
 * The cross-process machine registry: one JSON file per live machine in the runtime directory,
 * so that `tsvisor list` in another process sees every machine on the host (NVMM keeps this in
 * the kernel; here the filesystem is the shared place).
 *
 * - Ids are small integers unique across processes: an id is claimed by creating machine-<id>.json
 *   with O_EXCL, which fails atomically if the id is taken. A reader that finds the file still
 *   empty (between create and first write) or mid-rewrite retries, then skips it; it never reaps it.
 * - Updates rewrite the entry in place through a kept-open descriptor as one fixed-size record
 *   (no truncation, no rename: on ext4 both force a data flush and cost ~0.4 ms each, measured);
 *   a reader that catches a record mid-write retries.
 * - Entries whose owner process is gone are stale: ignored by readers and removed, but only under
 *   a reaper lock, so two processes can never both decide to delete and recreate the same id.
 */
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { VmmError } from '../api/errors.js';
import type { BackendName } from '../api/types.js';
import { processAlive, processStartTime } from './process-liveness.js';
import { MAX_MACHINES } from './limits.js';
import { ensureRuntimeDir, runtimeDirPath } from './runtime-dir.js';

/** One live machine as other processes see it. */
export interface MachineEntry {
  id: number;
  pid: number;
  backend: BackendName;
  vcpus: number;
  /** Bytes of guest RAM mapped. */
  ram: number;
  /** Milliseconds since the epoch. */
  created: number;
  /** The owner's start time (Linux), to tell a reused pid from the owner. */
  pidStart?: string;
}

const ENTRY = /^machine-(\d+)\.json$/;
const entryName = (id: number): string => `machine-${id}.json`;
/** A reaper lock older than this belongs to a process that died while holding it. */
const STALE_LOCK_MS = 10_000;

/** Every record has this size (JSON padded with spaces), so an in-place rewrite replaces it whole. */
const RECORD_SIZE = 256;
const READ_TRIES = 3;

/** Where records are formatted: one buffer for the thread, as every write is synchronous. */
const recordBuf = Buffer.alloc(RECORD_SIZE);

/**
 * The entry minus its id (the file name carries it) as a fixed-size record. Only vcpus and ram
 * change after creation, so the JSON around them is built once (recordParts): the same text
 * JSON.stringify gives, without serialising the whole object at every map() and createVcpu().
 * (All of it runs between KVM's VM creation and destruction, which leave the CPU caches cold:
 * every allocation here costs microseconds, measured.)
 */
function record(mine: Mine): Buffer {
  const json = `${mine.head}${mine.entry.vcpus},"ram":${mine.entry.ram},${mine.tail}`;
  if (json.length > RECORD_SIZE) throw new VmmError('E2BIG', `machine registry record is ${json.length} bytes, over ${RECORD_SIZE}`);
  recordBuf.fill(0x20, recordBuf.write(json, 0, 'latin1'));
  return recordBuf;
}

/** The fixed JSON before vcpus (`{"pid":..,"backend":..,"vcpus":`) and after ram (`"created":..}`). */
function recordParts(entry: MachineEntry): { head: string; tail: string } {
  const { pid, backend, created, pidStart } = entry;
  return {
    head: `{"pid":${pid},"backend":${JSON.stringify(backend)},"vcpus":`,
    tail: `"created":${created}${pidStart === undefined ? '' : `,"pidStart":${JSON.stringify(pidStart)}`}}`,
  };
}

function readEntry(dir: string, id: number): MachineEntry | undefined {
  for (let i = 0; i < READ_TRIES; i++) {
    let text: string;
    try {
      text = readFileSync(join(dir, entryName(id)), 'utf8');
    } catch {
      return undefined; // removed meanwhile
    }
    try {
      const e = JSON.parse(text) as MachineEntry;
      return Number.isInteger(e.pid) ? { ...e, id } : undefined;
    } catch {
      // caught mid-rewrite (or not one of ours): read again
    }
  }
  return undefined;
}

/** One of this process's entries: the descriptor it is rewritten through and its fixed JSON. */
interface Mine {
  entry: MachineEntry;
  fd: number;
  head: string;
  tail: string;
}

const isLive = (e: MachineEntry): boolean => processAlive(e.pid, e.pidStart);

/** Runs fn holding the reaper lock; returns false (fn not run) if another process holds it. */
function withReaperLock(dir: string, fn: () => void): boolean {
  const lock = join(dir, '.reaper.lock');
  try {
    mkdirSync(lock);
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
      rmdirSync(lock);
      mkdirSync(lock);
    } catch {
      return false;
    }
  }
  try {
    fn();
  } finally {
    rmdirSync(lock);
  }
  return true;
}

/** Removes an entry if (checked again under the lock) its owner is gone. */
function reap(dir: string, id: number): void {
  withReaperLock(dir, () => {
    const e = readEntry(dir, id);
    if (e !== undefined && !isLive(e)) unlinkSync(join(dir, entryName(id)));
  });
}

export class MachineRegistry {
  readonly dir: string;
  private readonly pidStart = processStartTime(process.pid);
  /** This process's entries, the open descriptor each is rewritten through, and its record buffer. */
  private readonly mine = new Map<number, Mine>();
  /**
   * Ids whose entry file belonged to another process at our last attempt: tested with a stat
   * before the next O_EXCL create, since a failed create costs a thrown Node exception (~7 us,
   * measured) and a stat one fifth of that. Ids never seen taken go straight to the create.
   */
  private readonly takenElsewhere = new Set<number>();

  constructor(dir: string = ensureRuntimeDir()) {
    this.dir = dir;
    // A process that exits with machines still alive takes its entries with it (a crash leaves
    // them stale instead, for listMachines to reap).
    process.once('exit', () => {
      for (const id of [...this.mine.keys()]) this.unregister(id);
    });
  }

  /**
   * Claims the smallest id without an entry file and publishes an entry for it: O_EXCL creates
   * from id 0 up, skipping this process's own ids (one open in the common case; no directory
   * scan, no reading of other entries). Stale entries are not read here: listMachines reaps them,
   * and so does register when ids 0..MAX_MACHINES-1 are all taken.
   */
  register(backend: BackendName): number {
    const created = Date.now();
    let swept = false;
    for (let id = 0; ; id++) {
      if (id === MAX_MACHINES && !swept) {
        listMachines(this.dir);
        swept = true;
        id = -1;
        continue;
      }
      if (this.mine.has(id)) continue;
      const path = join(this.dir, entryName(id));
      if (this.takenElsewhere.has(id)) {
        if (existsSync(path)) continue;
        this.takenElsewhere.delete(id);
      }
      let fd: number;
      try {
        // O_EXCL without O_TRUNC: on ext4, writeFileSync's O_TRUNC makes close() flush (~0.2 ms, measured).
        fd = openSync(path, 'wx', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') { // another process holds it
          this.takenElsewhere.add(id);
          continue;
        }
        throw new VmmError('EPERM', `machine registry ${this.dir}: cannot register machine ${id} (${(e as Error).message})`);
      }
      const entry: MachineEntry = { id, pid: process.pid, backend, vcpus: 0, ram: 0, created };
      if (this.pidStart !== undefined) entry.pidStart = this.pidStart;
      const mine: Mine = { entry, fd, ...recordParts(entry) };
      this.mine.set(id, mine);
      this.write(mine);
      return id;
    }
  }

  private write(mine: Mine): void {
    try {
      writeSync(mine.fd, record(mine), 0, RECORD_SIZE, 0);
    } catch (e) {
      throw new VmmError('EIO', `machine registry ${this.dir}: cannot write machine ${mine.entry.id} (${(e as Error).message})`);
    }
  }

  update(id: number, info: { vcpus: number; ram: number }): void {
    const mine = this.mine.get(id);
    if (mine === undefined) return;
    mine.entry.vcpus = info.vcpus;
    mine.entry.ram = info.ram;
    this.write(mine);
  }

  unregister(id: number): void {
    const mine = this.mine.get(id);
    if (mine === undefined) return;
    this.mine.delete(id);
    closeSync(mine.fd);
    try {
      unlinkSync(join(this.dir, entryName(id)));
    } catch {
      // already gone (the directory was cleaned by hand): nothing left to remove
    }
  }
}

/**
 * Every live machine on this host, sorted by id. Stale entries (owner gone) are left out and
 * removed. dir defaults to the runtime directory; a missing directory means no machines.
 */
export function listMachines(dir: string = runtimeDirPath()): MachineEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: MachineEntry[] = [];
  for (const name of names) {
    const m = ENTRY.exec(name);
    if (m === null) continue;
    const e = readEntry(dir, Number(m[1]));
    if (e === undefined) continue;
    if (isLive(e)) out.push(e);
    else reap(dir, e.id);
  }
  return out.sort((a, b) => a.id - b.id);
}

let processRegistry: MachineRegistry | undefined;
/** This process's registry, made on first use (so TSVISOR_RUNDIR set at start-up applies). */
export function machineRegistry(): MachineRegistry {
  processRegistry ??= new MachineRegistry();
  return processRegistry;
}
