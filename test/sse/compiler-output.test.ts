/**
 * What compilers emit: every legacy-encoded SSE/MMX instruction in this host's C library
 * (glibc: its SSE2/SSSE3/SSE4 string functions, libio, printf; disassembled with objdump) is either a form the
 * layer implements or a floating-point form left to src/x86/sse/float. VEX-encoded code (the
 * AVX variants glibc picks only when CPUID offers AVX) is not counted: the model raises #UD.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { decode } from '../../src/x86/decoder/index.js';
import '../../src/x86/sse/index.js';
import { formKey, prefixIndex, SLOTS } from '../../src/x86/sse/form.js';
import { FLOAT_NAMES } from '../../src/x86/sse/float-names.js';

const LIBS = ['/usr/lib/x86_64-linux-gnu/libc.so.6'].filter((f) => existsSync(f));
/** The decoder mnemonics the layer's table serves (the others it names are #UD outright). */
const RUN_HERE = new Set(['sse', 'emms', 'movnti']);
const objdump = spawnSync('objdump', ['--version'], { encoding: 'utf8' });
const why = objdump.status !== 0 ? 'objdump is not installed' : LIBS.length === 0 ? 'no x86-64 glibc on this host' : undefined;

test('every legacy SSE/MMX form in the host libc is implemented or a known float form', { skip: why }, () => {
  const missing = new Map<string, number>();
  let seen = 0;
  for (const lib of LIBS) {
    const r = spawnSync('objdump', ['-d', '-w', '--insn-width=15', lib], { encoding: 'utf8', maxBuffer: 1 << 30 });
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t(\S*)/.exec(line);
      if (!m) continue;
      const bytes = Uint8Array.from(m[1]!.trim().split(' '), (h) => parseInt(h, 16));
      let insn;
      try { insn = decode(bytes, 64); } catch { continue; } // data in .text, objdump's "(bad)"
      if (insn.vex !== 0 || !RUN_HERE.has(insn.mnemonic)) continue;
      seen++;
      const key = formKey(insn.map, insn.opcode, prefixIndex(insn), insn.reg);
      const slot = SLOTS.get(key);
      if ((insn.mod === 3 ? slot?.reg : slot?.mem) !== undefined || FLOAT_NAMES.has(key)) continue;
      const name = `${m[2]} (${insn.mod === 3 ? 'register' : 'memory'} form) in ${lib}`;
      missing.set(name, (missing.get(name) ?? 0) + 1);
    }
  }
  assert.ok(seen > 1000, `only ${seen} SSE/MMX instructions found`);
  assert.deepEqual([...missing], [], `${seen} SSE/MMX instructions seen`);
});
