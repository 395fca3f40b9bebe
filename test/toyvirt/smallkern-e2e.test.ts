/**
 * End to end: `tsvisor toyvirt guests/build/smallkern` on each backend this machine has, with
 * the whole transcript (monitor lines and guest console) compared to smallkern.expected.
 * A backend that cannot run here is skipped with the reason, never faked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendName } from '../../src/api/types.js';
import { GUEST_BUILD, REPO } from '../support.js';
import { runCli, skipUnlessBackend, skipUnlessCli } from './cli-run.js';

const KERNEL = join(GUEST_BUILD, 'smallkern');
/** Long enough that smallkern boots (~60 ms on soft, ~40 ms on PVM; several times that on a loaded machine, where 250 ms was seen to be too short) and handles each event well before the next one. */
const INTERVAL_MS = 600;

function skipReason(backend: BackendName): string | false {
  if (!existsSync(KERNEL)) return 'guests/build/smallkern not built (make -C guests)';
  return skipUnlessCli() || skipUnlessBackend(backend);
}

function expected(backend: BackendName): string {
  return readFileSync(join(REPO, 'test', 'toyvirt', 'smallkern.expected'), 'utf8')
    .replaceAll('{backend}', backend).replaceAll('{interval}', String(INTERVAL_MS));
}

for (const backend of ['kvm', 'soft'] as const) {
  test(`toyvirt runs smallkern on ${backend}: whole transcript, exit 0`, { skip: skipReason(backend) }, () => {
    const r = runCli(['toyvirt', KERNEL, '--interval', String(INTERVAL_MS), '--backend', backend]);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, expected(backend));
    assert.equal(r.status, 0);
  });
}
