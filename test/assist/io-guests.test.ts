/**
 * assist-io64 through the public API: IN/OUT of every size and INS/OUTS (REP, DF both ways, FS
 * override, 32-bit address size) completed by cpu.assistIo; the port log, the values the guest
 * received and its final rSI/rDI/rCX are checked against the values worked out by hand from the
 * guest source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IoRequest } from '../../src/index.js';
import { guestBinary } from '../support.js';
import { backendCases } from './backends.js';
import { LONG, runGuest } from './guest-run.js';

const SRC = 0xb0;   // the guest's src label (checked below against the binary)

const bytes = (...b: number[]): string => b.map((x) => x.toString(16)).join(',');
const EXPECTED_PORTS = [
  'out 60/1 11', 'out 60/2 ' + bytes(0x33, 0x22), 'out 60/4 ' + bytes(0x77, 0x66, 0x55, 0x44), 'out 61/1 77', 'out 62/2 77,66',
  'in 60/1', 'in 61/2', 'in 60/4',
  ...[0xa0, 0xa1, 0xa2, 0xa3, 0xa4].map((b) => `out 60/1 ${bytes(b)}`),
  'out 60/2 a5,a6',
  'out 60/4 ac,ad,ae,af', 'out 60/4 a8,a9,aa,ab', 'out 60/4 a4,a5,a6,a7',
  'out 60/1 a0', 'out 60/1 a1',
  'out 60/1 a1',
  'in 60/2', 'in 60/2', 'in 60/2', 'in 60/2', 'in 60/1',
  'in 60/4', 'in 60/4',
];

for (const b of backendCases()) {
  test(`assist-io64 on ${b.name}: IN/OUT/INS/OUTS with and without REP`, { skip: b.skip }, () => {
    const image = guestBinary('assist-io64');
    assert.deepEqual(Array.from(image.subarray(SRC, SRC + 4)), [0xa0, 0xa1, 0xa2, 0xa3], 'src label where the test expects it');
    const log: string[] = [];
    let next = 0x10;
    const io = (r: IoRequest): void => {
      if (r.in) for (let i = 0; i < r.size; i++) r.data[i] = next++;
      log.push(`${r.in ? 'in' : 'out'} ${r.port.toString(16)}/${r.size}${r.in ? '' : ' ' + bytes(...r.data.subarray(0, r.size))}`);
    };
    const buf = LONG.BUF;
    const run = runGuest({
      backend: b.name, image, mode: 'long', dataGpa: LONG.DATA, dataInit: new Uint8Array(4096), dataAsRam: true,
      gprs: { rbx: BigInt(buf) }, io, cpl: 0,
      setup: (cpu) => {
        const segs = cpu.getState().segs!;
        cpu.setState({ segs: { fs: { ...segs.fs, base: 0x10n } } });
      },
    });
    try {
      assert.deepEqual(log, EXPECTED_PORTS);
      const v = new DataView(run.ram.buffer, run.ram.byteOffset + buf);
      const q = (off: number): bigint => v.getBigUint64(off, true);
      assert.equal(q(0), 0xffff_ffff_ffff_ff10n, 'IN AL keeps the upper bits');
      assert.equal(q(8), 0xffff_ffff_ffff_1211n, 'IN AX keeps the upper bits');
      assert.equal(q(16), 0x16151413n, 'IN EAX zero-extends');
      assert.deepEqual([q(24), q(32), q(40), q(48), q(56)], [BigInt(SRC + 5), 0n, BigInt(SRC), 0xa2n, BigInt(SRC + 2)]);
      assert.deepEqual(Array.from(run.ram.subarray(buf + 0x100, buf + 0x109)), [0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f]);
      assert.deepEqual(Array.from(run.ram.subarray(buf + 0x208, buf + 0x210)), [0x24, 0x25, 0x26, 0x27, 0x20, 0x21, 0x22, 0x23]);
      assert.deepEqual([q(64), q(72), q(80)], [BigInt(buf + 0x109), BigInt(buf + 0x204), 0n]);
    } finally {
      run.hv.close();
    }
  });
}
