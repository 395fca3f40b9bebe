/**
 * Seeded fuzzing of configuration writes (mechanism #1 and ECAM, every size and lane, random
 * values) from a guest that writes anything anywhere: no exception, read-only identity unchanged,
 * the capability list still walks to its end, BAR type bits intact. The seed prints on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, testSeed } from '../exec/rng.js';
import { ConfigIo, le } from './config-io.js';
import { testBus } from './fixtures.js';

const ROUNDS = Number(process.env.TSVISOR_PCI_FUZZ ?? 20000);

test('random configuration writes never break the function or the bus', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const t = testBus();
  const io = new ConfigIo(t.bus.configPorts());
  const ecam = t.bus.ecam(0xe0000000);
  const win = t.bus.mmioWindow('w', 0, 2 ** 32);
  for (let i = 0; i < ROUNDS; i++) {
    const size = rng.pick([1, 2, 4] as const);
    const reg = rng.int(4) === 0 ? rng.pick([4, 6, 0x10, 0x14, 0x18, 0x1c, 0x20, t.msix.capOffset + 2]) : rng.int(256);
    const value = rng.int(3) === 0 ? 0xffffffff : Number(rng.u32());
    try {
      switch (rng.int(5)) {
        case 0: io.write(t.slot, rng.int(2), reg & ~(size - 1), size, value); break;
        case 1: io.out(0xcf8 + rng.int(8), size, value); break;
        case 2: ecam.write(rng.int(1 << 20), new Uint8Array([value & 0xff, 1, 2, 3].slice(0, size))); break;
        case 3: win.write(Number(rng.u32()) & ~3, new Uint8Array(4).fill(value & 0xff)); break;
        default: t.msix.notify(rng.int(5)); t.fn.setIntx(rng.int(2) === 1);
      }
    } catch (e) {
      assert.fail(`seed ${seed} round ${i}: ${String(e)}`);
    }
  }
  const d = new Uint8Array(4);
  const cfg = (reg: number) => { ecam.read((t.slot << 15) | reg, d); return le(d); };
  assert.equal(cfg(0), 0x56781234, `seed ${seed}: identity`);
  assert.equal(cfg(8), 0xff000003, `seed ${seed}: class`);
  assert.equal(cfg(0x10) & 0xfff, 0, `seed ${seed}: BAR0 low bits`);
  assert.equal(cfg(0x18) & 0xf, 0xc, `seed ${seed}: BAR2 type bits`);
  assert.equal(cfg(0x20) & 0x3, 1, `seed ${seed}: BAR4 I/O bit`);
  assert.equal(cfg(0x34) & 0xff, t.msix.capOffset, `seed ${seed}: capability pointer`);
  assert.equal(cfg(t.msix.capOffset) & 0xffff, 0x0011, `seed ${seed}: MSI-X is the last capability`);
  assert.equal((cfg(t.msix.capOffset) >>> 16) & 0x7ff, 2, `seed ${seed}: table size`);
  ecam.read(0, d);
  assert.equal(le(d), 0x00081b36, `seed ${seed}: host bridge identity`);
});
