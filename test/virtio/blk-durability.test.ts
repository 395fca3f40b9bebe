/**
 * What the guest flushed is in the image after the monitor dies by SIGKILL: a child process
 * writes through virtio-blk, flushes, and is killed with no chance to clean up.
 * (This shows no write is held in the monitor's memory; surviving a host power loss is what the
 * fsync behind FLUSH is for, which a test cannot cut the power to check.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pattern } from './blk-kill-child.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'blk-kill-child.js');

test('flushed writes survive a SIGKILL of the monitor process', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'virtio-kill-')), 'disk.img');
  writeFileSync(path, new Uint8Array(128 * 512));
  const child = spawn(process.execPath, [CHILD, path, '40', '24', '77'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr.on('data', (d: Buffer) => { err += String(d); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes('flushed')) resolve();
    });
    void exited.then((e) => reject(new Error(`child exited (${e.code ?? e.signal}) before flushing: ${err}`)));
  });
  child.kill('SIGKILL');
  const { signal } = await exited;
  assert.equal(signal, 'SIGKILL');
  const image = readFileSync(path);
  assert.deepEqual(new Uint8Array(image.subarray(40 * 512, 64 * 512)), pattern(77, 24 * 512));
  assert.ok(image.subarray(0, 40 * 512).every((b) => b === 0), 'nothing written before the target sectors');
  assert.ok(image.subarray(64 * 512).every((b) => b === 0), 'nothing written after them');
});
