import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anyUsableBackend } from '../frontend/real-backends.js';
import { tsvisor } from './run-cli.js';

interface Listed { id: number; backend: string; vcpus: number; ram: number; pid: number; created: string }

const DIR = mkdtempSync(join(tmpdir(), 'tsvisor-cli-list-'));
process.on('exit', () => rmSync(DIR, { recursive: true, force: true }));
const ENV = { TSVISOR_RUNDIR: DIR };

function listJson(): Listed[] {
  const r = tsvisor(['list', '--json'], ENV);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
}

test('list with no machines: an empty array, and a header only', () => {
  assert.deepEqual(listJson(), []);
  const r = tsvisor(['list'], ENV);
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)[0]), ['Machine ID', '----------']);
});

test('list shows a machine of another process; killing the owner removes it', async () => {
  // Prefer a real backend; the registry is the same for the fake one, which runs everywhere.
  const backend = anyUsableBackend() ?? 'fake';
  if (backend === 'fake') console.log('# note: no real backend opens here, the machine-holding child uses the fake backend');
  const holder = join(fileURLToPath(new URL('.', import.meta.url)), 'machine-holder.js');
  const started = Date.now();
  const child = spawn(process.execPath, [holder, backend], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = await once(child.stdout!, 'data') as [Buffer];
    const { id } = JSON.parse(chunk.toString()) as { id: number };
    const listed = listJson();
    assert.equal(listed.length, 1);
    const e = listed[0]!;
    assert.deepEqual({ ...e, created: undefined }, {
      id, backend: backend === 'fake' ? 'soft' : backend, vcpus: 2, ram: 0x3000, pid: child.pid, created: undefined,
    });
    const created = Date.parse(e.created);
    assert.ok(created >= started - 1000 && created <= Date.now(), `creation time ${e.created}`);
    const text = tsvisor(['list'], ENV).stdout.trimEnd().split('\n');
    assert.equal(text.length, 3);
    assert.deepEqual(text[2]!.split(/\s{2,}/).slice(0, 5), [String(id), e.backend, '2', '12.0K', String(child.pid)]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.deepEqual(listJson(), [], 'the dead owner\'s machine is gone from the list');
  } finally {
    child.kill('SIGKILL');
  }
});
