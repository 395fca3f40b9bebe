/**
 * writeAllSync delivers everything, in order, to a standard output that a Node parent made a
 * non-blocking socket, while the reader stalls (a plain writeSync fails there with EAGAIN, which
 * lost guest output and ended `tsvisor run` under load).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const TOTAL = 8 * 2 ** 20;
const child = (plain: boolean): string => `
  const { writeSync } = require('node:fs');
  import(${JSON.stringify(new URL('../../src/vmm/host-output.js', import.meta.url).href)}).then(({ writeAllSync }) => {
    void process.stdout; // as in the monitor: libuv has set up fd 1 (non-blocking)
    const chunk = Buffer.alloc(65536);
    for (let i = 0; i < ${TOTAL} / chunk.length; i++) {
      chunk.fill(i & 0xff);
      if (${plain}) writeSync(1, chunk); else writeAllSync(1, chunk);
    }
  });
`;

function run(plain: boolean): Promise<{ bytes: Buffer; status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', child(plain)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const parts: Buffer[] = [];
    let stderr = '';
    p.stdout.pause();
    setTimeout(() => p.stdout.resume(), 500); // a slow reader: the socket fills up
    p.stdout.on('data', (d: Buffer) => parts.push(d));
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('close', (status) => resolve({ bytes: Buffer.concat(parts), status, stderr }));
  });
}

test('writeAllSync: 8 MiB through a stalled non-blocking stdout arrive whole and in order', async () => {
  const r = await run(false);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.bytes.length, TOTAL);
  for (let i = 0; i < TOTAL / 65536; i++) assert.equal(r.bytes[i * 65536 + 100], i & 0xff, `chunk ${i} in order`);
});

test('the setting is real: a plain writeSync on that stdout fails with EAGAIN', async () => {
  const r = await run(true);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /EAGAIN/);
});
