/**
 * startReadyWorker: resolves only once the worker said it is ready (modules loaded), and rejects
 * when the worker's module load fails, so a stop() test never blocks its thread in run() with a
 * dead stopper (what made stop.test hang: it only waited for 'online').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReadyWorker } from './ready-worker.js';

test('a helper worker whose modules fail to load is an error, not a stopper that never comes', async () => {
  const broken = `
    const { parentPort } = require('node:worker_threads');
    import('file:///nonexistent/tsvisor-index.js').then(() => parentPort.postMessage('ready'));`;
  await assert.rejects(startReadyWorker(broken, { eval: true }), /did not get ready: .*nonexistent/);
});

test('a helper worker is handed over only after it posted ready', async () => {
  const slow = `
    const { parentPort } = require('node:worker_threads');
    setTimeout(() => { parentPort.on('message', (m) => parentPort.postMessage('echo:' + m)); parentPort.postMessage('ready'); }, 100);`;
  const t0 = Date.now();
  const w = await startReadyWorker(slow, { eval: true });
  assert.ok(Date.now() - t0 >= 90, 'not before the worker finished loading');
  w.postMessage('x');
  const got = await new Promise((r) => w.once('message', r));
  assert.equal(got, 'echo:x');
  await w.terminate();
});
