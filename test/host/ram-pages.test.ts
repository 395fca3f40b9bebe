/**
 * Soft guest RAM is given back to the host when its machine is destroyed (or the memory freed),
 * not whenever the garbage collector gets to the SharedArrayBuffer: a create/touch/destroy loop
 * keeps RSS bounded by what is alive, and a view kept past destroy() reads zeros. As it is
 * allocated, it is advised to be backed by huge pages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor } from '../../src/index.js';
import { adviseHugePages, releasesPages } from '../../src/host/ram-pages.js';
import { existsSync, readFileSync } from 'node:fs';

const skip = releasesPages ? false : 'koffi/glibc do not load here: released soft RAM waits for the garbage collector';
if (skip) console.log(`# SKIP soft RAM release: ${skip}`);

const CYCLES = 48, SIZE = 32 * 2 ** 20;
/** Alive at a time: one machine of SIZE. Without the release the loop peaked above 1 GiB. */
const BOUND = 512 * 2 ** 20;

test(`soft: ${CYCLES} create/touch/destroy cycles of a ${SIZE / 2 ** 20} MiB machine keep RSS bounded`, { skip }, () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const before = process.memoryUsage.rss();
    let peak = 0;
    for (let i = 0; i < CYCLES; i++) {
      const m = hv.createMachine();
      const ram = m.allocate(SIZE);
      m.map(0, ram);
      for (let k = 0; k < SIZE; k += 4096) ram.bytes[k] = 1;
      m.createVcpu(0).run();
      m.destroy();
      peak = Math.max(peak, process.memoryUsage.rss() - before);
    }
    console.log(`# peak RSS growth ${(peak / 2 ** 20).toFixed(0)} MiB over ${CYCLES} cycles`);
    assert.ok(peak < BOUND, `RSS grew by ${(peak / 2 ** 20).toFixed(0)} MiB (bound ${BOUND / 2 ** 20} MiB)`);
  } finally {
    hv.close();
  }
});

test('soft: after destroy() (or free) a view of the RAM reads zeros, pages edge to edge', { skip }, () => {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(0x10000), spare = m.allocate(0x3000);
    m.map(0, ram);
    ram.bytes.fill(0xab);
    spare.bytes.fill(0xcd);
    m.free(spare);
    assert.equal(spare.bytes.findIndex((b) => b !== 0), -1, 'freed memory reads zeros');
    m.destroy();
    assert.equal(ram.bytes.findIndex((b) => b !== 0), -1, 'released RAM reads zeros, first and last bytes included');
  } finally {
    hv.close();
  }
});

test('soft: huge page advice covers the whole 2 MiB pages inside a buffer and leaves its bytes alone', { skip }, () => {
  const bytes = new Uint8Array(new SharedArrayBuffer(8 * 2 ** 20));
  for (let k = 0; k < bytes.length; k += 4093) bytes[k] = k & 0xff;
  // A kernel built without transparent huge pages has no such directory and refuses the advice (EINVAL).
  const thpBuilt = existsSync('/sys/kernel/mm/transparent_hugepage');
  assert.equal(adviseHugePages(bytes), thpBuilt, thpBuilt ? 'madvise(MADV_HUGEPAGE) accepted' : 'refused without THP support');
  for (let k = 0; k < bytes.length; k += 4093) assert.equal(bytes[k], k & 0xff);
  assert.equal(adviseHugePages(new Uint8Array(new SharedArrayBuffer(2 ** 20))), false, 'no whole aligned 2 MiB page inside 1 MiB');
  assert.equal(adviseHugePages(new Uint8Array(0)), false);
  // Whether the host then backs it with huge pages is its policy: reported, not asserted.
  const thp = (() => { try { return readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').trim(); } catch { return 'unknown'; } })();
  console.log(`# host transparent huge pages: ${thp}`);
});
