/**
 * A conformance result in a form that can be committed: the port log, the final GPRs (hex) and a
 * SHA-256 of each compared memory range. test/conformance/expected.json holds the fingerprints
 * recorded where KVM (hardware) and soft agreed (scripts/conformance-record.mjs), so the soft
 * half is still checked against hardware on machines without KVM.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support.js';
import type { GuestResult } from './harness.js';

export interface Fingerprint { log: number[]; gprs: Record<string, string>; memorySha256: string[] }

export const EXPECTED_PATH = join(REPO, 'test', 'conformance', 'expected.json');

export function fingerprint(r: GuestResult): Fingerprint {
  return {
    log: r.log,
    gprs: Object.fromEntries(Object.entries(r.gprs).map(([k, v]) => [k, `0x${v.toString(16)}`])),
    memorySha256: r.memory.map((m) => createHash('sha256').update(m).digest('hex')),
  };
}

export function recordedFingerprints(): Record<string, Fingerprint> {
  return JSON.parse(readFileSync(EXPECTED_PATH, 'utf8')) as Record<string, Fingerprint>;
}
