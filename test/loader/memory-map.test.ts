import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { buildE820, usableRam } from '../../src/vmm/loader/memory-map.js';
import { placeHigh } from '../../src/vmm/loader/placement.js';

test('e820: non-RAM regions carve RAM, adjacent same types merge, gaps stay gaps', () => {
  const map = { regions: [
    { gpa: 0, size: 3 * 2 ** 30, type: 'ram' as const },
    { gpa: 0x9fc00, size: 0x60400, type: 'reserved' as const },
    { gpa: 0xbfff0000, size: 0x10000, type: 'acpi' as const },
    { gpa: 2 ** 32, size: 2 ** 30, type: 'ram' as const },
    { gpa: 2 ** 32 + 2 ** 30, size: 2 ** 20, type: 'ram' as const },
  ] };
  assert.deepEqual(buildE820(map), [
    { addr: 0, size: 0x9fc00, type: 1 }, { addr: 0x9fc00, size: 0x60400, type: 2 },
    { addr: 0x100000, size: 0xbfff0000 - 0x100000, type: 1 }, { addr: 0xbfff0000, size: 0x10000, type: 3 },
    { addr: 2 ** 32, size: 2 ** 30 + 2 ** 20, type: 1 },
  ]);
  assert.deepEqual(usableRam(map), [{ start: 0, end: 0x9fc00 }, { start: 0x100000, end: 0xbfff0000 }, { start: 2 ** 32, end: 2 ** 32 + 2 ** 30 + 2 ** 20 }]);
});

test('e820: contradictions and nonsense are refused', () => {
  const err = (re: RegExp) => (e: unknown): boolean => e instanceof VmmError && e.code === 'EINVAL' && re.test(e.message);
  assert.throws(() => buildE820({ regions: [] }), err(/no regions/));
  assert.throws(() => buildE820({ regions: [{ gpa: 0, size: 0x1000, type: 'acpi' }, { gpa: 0x800, size: 0x1000, type: 'nvs' }] }), err(/0x800\.\.0x1000 both acpi and nvs/));
  assert.throws(() => buildE820({ regions: [{ gpa: 0, size: 0, type: 'ram' }] }), err(/region 0 \(ram\) at 0x0 size 0x0 is not a non-empty range/));
  assert.throws(() => buildE820({ regions: [{ gpa: -1, size: 10, type: 'ram' }] }), err(/not a non-empty range/));
  assert.throws(() => buildE820({ regions: [{ gpa: 0, size: 10, type: 'rom' as 'ram' }] }), err(/type rom; expected ram/));
});

test('placeHigh: highest aligned fit below the cap, around what is taken', () => {
  const ram = [{ start: 0, end: 0x100000 }, { start: 0x200000, end: 0x400000 }];
  assert.equal(placeHigh(ram, [], 0x1000, 0x1000, Infinity), 0x3ff000);
  assert.equal(placeHigh(ram, [{ start: 0x300000, end: 0x400000 }], 0x1800, 0x1000, Infinity), 0x2fe000);
  assert.equal(placeHigh(ram, [], 0x1000, 0x1000, 0x380800), 0x37f000);
  assert.equal(placeHigh(ram, [{ start: 0x200000, end: 0x400000 }], 0x1000, 0x1000, Infinity), 0xff000);
  assert.equal(placeHigh(ram, [], 0x300000, 0x1000, Infinity), undefined);
});
