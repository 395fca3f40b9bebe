/**
 * Fixed-corpus agreement with a reference disassembler: test/decoder/corpus/forms-{64,32,16}.S
 * (hundreds of instruction forms: GP, system, x87, SSE, AVX, AVX-512, XOP, prefix mixes) are
 * assembled with GNU as at test time and disassembled with objdump; the decoder must find the
 * same length at every instruction boundary (100%), and operands that match objdump's text
 * (memory operand, registers, immediate, branch target: scripts/decoder-operand-check.ts).
 * Skipped, visibly, without binutils.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { decode } from '../../src/x86/decoder/index.js';
import type { CodeMode } from '../../src/x86/instruction.js';
import { REPO } from '../support.js';
import { checkOperands } from '../../scripts/decoder-operand-check.js';
import type { OperandStats } from '../../scripts/decoder-operand-check.js';

function missingTools(): string | false {
  for (const tool of ['as', 'objdump']) {
    if (spawnSync(tool, ['--version']).status !== 0) {
      const why = `${tool} (binutils) not found`;
      console.log(`# SKIP decoder objdump corpus: ${why}`);
      return why;
    }
  }
  return false;
}

const LINE = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$/;

/** Assembles a corpus file; returns the .text bytes and objdump's instruction boundaries. */
function assembleAndDisassemble(mode: CodeMode): { bytes: Uint8Array; insns: { addr: number; length: number; text: string }[] } {
  const dir = mkdtempSync(join(tmpdir(), 'decoder-corpus-'));
  try {
    const obj = join(dir, 'forms.o');
    const src = join(REPO, 'test', 'decoder', 'corpus', `forms-${mode}.S`);
    const as = spawnSync('as', [mode === 64 ? '--64' : '--32', '-o', obj, src], { encoding: 'utf8' });
    assert.equal(as.status, 0, `as failed: ${as.stderr}`);
    const machine = mode === 64 ? ['-M', 'intel64'] : mode === 16 ? ['-m', 'i8086'] : [];
    const dump = spawnSync('objdump', ['-d', '-z', '--insn-width=16', ...machine, obj], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(dump.status, 0, `objdump failed: ${dump.stderr}`);
    const insns: { addr: number; length: number; text: string }[] = [];
    const all: number[] = [];
    for (const line of dump.stdout.split('\n')) {
      const m = LINE.exec(line);
      if (!m) continue;
      const bytes = m[2].trim().split(' ').map((h) => parseInt(h, 16));
      const addr = parseInt(m[1], 16);
      assert.equal(addr, all.length, 'objdump output is one contiguous .text');
      all.push(...bytes);
      insns.push({ addr, length: bytes.length, text: m[3].trim() });
    }
    return { bytes: Uint8Array.from(all), insns };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const mode of [64, 32, 16] as CodeMode[]) {
  test(`decoder: ${mode}-bit lengths agree with objdump on the assembled corpus`, { skip: missingTools() }, () => {
    const { bytes, insns } = assembleAndDisassemble(mode);
    assert.ok(insns.length > (mode === 64 ? 250 : 50), `corpus has ${insns.length} instructions`);
    const wrong: string[] = [];
    const stats: OperandStats = {};
    for (const ins of insns) {
      const hex = Buffer.from(bytes.subarray(ins.addr, ins.addr + ins.length)).toString('hex');
      try {
        const insn = decode(bytes, mode, ins.addr);
        if (insn.length !== ins.length) wrong.push(`${hex} (${ins.text}): decoder ${insn.length}, objdump ${ins.length}`);
        else for (const why of checkOperands(insn, ins.text, ins.addr, mode, stats)) wrong.push(`${hex} (${ins.text}): ${why}`);
      } catch (e) {
        wrong.push(`${hex} (${ins.text}): ${String(e)}`);
      }
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${insns.length} disagree`);
    // The operand comparison must actually have run on a good share of the corpus.
    assert.ok((stats.memory?.checked ?? 0) >= 20 && (stats.register?.checked ?? 0) >= 20, JSON.stringify(stats));
  });
}
