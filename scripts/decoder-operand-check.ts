/**
 * Checks a decoded Instruction's operands against objdump's AT&T text for the same bytes:
 * memory operand (segment, base, index, scale, displacement), general/segment/control/debug
 * registers, the immediate (at the operand size) and branch targets. Used by
 * scripts/decoder-vs-objdump.mjs --operands and by test/decoder/objdump-corpus.test.ts.
 */
import type { CodeMode, Instruction } from '../src/x86/instruction.js';

/** Per check kind: how many were compared and how many disagreed. */
export type OperandStats = Record<string, { checked: number; wrong: number }>;
const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', ...R64.slice(8).map((r) => `${r}d`)];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', ...R64.slice(8).map((r) => `${r}w`)];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', ...R64.slice(8).map((r) => `${r}b`)];
const R8H = ['ah', 'ch', 'dh', 'bh'];
const SEGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const REG_RIP = 16, REG_NONE = -1;
const STRING_OPS = new Set(['movs', 'cmps', 'stos', 'lods', 'scas', 'ins', 'outs', 'xlat', 'in', 'out']);
const GENERIC = new Set(['sse', '3dnow', 'x87', 'vex', 'evex', 'xop']);

function regName(reg: number, size: number, high: boolean): string {
  if (high) return R8H[reg];
  return (size === 8 ? R64 : size === 4 ? R32 : size === 2 ? R16 : R8)[reg];
}

function baseName(reg: number, addrSize: number): string {
  if (reg === REG_RIP) return addrSize === 8 ? 'rip' : 'eip';
  return (addrSize === 8 ? R64 : addrSize === 4 ? R32 : R16)[reg];
}

const MEM = /(?:%([a-z]{2}):)?(-?0x[0-9a-f]+)?\((%[a-z0-9]+)?(?:,(%[a-z0-9]+))?(?:,([1248]))?\)/;
const ABS = /(?:^|[\s,*])(?:%([a-z]{2}):)?(-?0x[0-9a-f]+)(?=,|$)/;

function signedHex(s: string): bigint {
  return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
}

/** Compares insn (decoded at addr) with objdump's text for it; returns the mismatches (empty: agrees). */
export function checkOperands(insn: Instruction, text: string, addr: number, mode: CodeMode, stats: OperandStats): string[] {
  const bad: string[] = [];
  const body = text.replace(/\s+#.*$/, '').replace(/<[^>]*>/g, '').trim();
  const count = (what: string, ok: boolean, detail: string): void => {
    stats[what] = stats[what] ?? { checked: 0, wrong: 0 };
    stats[what].checked++;
    if (!ok) { stats[what].wrong++; bad.push(`${what}: ${detail}`); }
  };
  if (insn.vex) return bad;
  const m = insn.mem;
  const mask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
  if (m && !STRING_OPS.has(insn.mnemonic)) {
    const p = MEM.exec(body);
    const abits = insn.addrSize * 8;
    if (p) {
      const base = p[3] ? p[3].slice(1) : null;
      const index = p[4] && p[4] !== '%riz' && p[4] !== '%eiz' ? p[4].slice(1) : null;
      const wantBase = m.base === REG_NONE ? null : baseName(m.base, insn.addrSize);
      const wantIndex = m.index === REG_NONE ? null : baseName(m.index, insn.addrSize);
      const disp = p[2] ? signedHex(p[2]) : 0n;
      const dispOk = (disp & mask(abits)) === (BigInt(m.disp) & mask(abits));
      const scaleOk = !index || Number(p[5] ?? 1) === m.scale;
      const segOk = !p[1] || (mode === 64 && p[1] !== 'fs' && p[1] !== 'gs') || SEGS[m.seg] === p[1];
      count('memory', base === wantBase && index === wantIndex && dispOk && scaleOk && segOk,
        `${JSON.stringify(m)} vs '${p[0]}'`);
    } else {
      const a = ABS.exec(body.replace(/^\S+\s+/, ' '));
      if (a && m.base === REG_NONE && m.index === REG_NONE) {
        const segOk = !a[1] || (mode === 64 && a[1] !== 'fs' && a[1] !== 'gs') || SEGS[m.seg] === a[1];
        // A 64-bit moffs is a JS number: exact for canonical addresses, rounded (still non-canonical) otherwise.
        const v = signedHex(a[2]) & mask(abits);
        const dispOk = abits === 64 ? Number(BigInt.asIntN(64, v)) === m.disp : v === (BigInt(m.disp) & mask(abits));
        count('memory', dispOk && segOk, `${JSON.stringify(m)} vs '${a[0]}'`);
      } else count('memory', false, `${JSON.stringify(m)} not found in '${body}'`);
    }
  }
  if (GENERIC.has(insn.mnemonic) || insn.mnemonic.startsWith('f')) return bad;
  for (const o of insn.operands) {
    let name: string | null = null;
    if (o.kind === 'reg') name = regName(o.reg, o.size, o.high);
    else if (o.kind === 'seg') name = SEGS[o.seg];
    else if (o.kind === 'cr') name = `cr${o.n}`;
    else if (o.kind === 'dr') name = `db${o.n}`;
    if (name) count('register', new RegExp(`%${name}(?![a-z0-9])`).test(body), `${name} not in '${body}'`);
  }
  const imm = insn.operands.find((o) => o.kind === 'imm');
  const dollar = /\$(0x[0-9a-f]+)/.exec(body);
  if (imm && dollar) {
    const v = ((BigInt(insn.immHi) << 32n) | BigInt(insn.imm >>> 0)) & mask(insn.opSize * 8);
    count('immediate', BigInt(dollar[1]) === v, `imm ${insn.immHi}:${insn.imm} size ${insn.opSize} vs ${dollar[0]}`);
  }
  if (insn.operands.some((o) => o.kind === 'rel')) {
    const t = /^(?:\S+\s+)*?(?:j\S*|call\S*|loop\S*|xbegin\S*)\s+([0-9a-f]+)\b/.exec(body);
    if (t) {
      const bits = mode === 64 ? 64 : insn.opSize === 2 ? 16 : 32;
      const rel = (BigInt(insn.immHi) << 32n) | BigInt(insn.imm >>> 0);
      const want = (BigInt(addr) + BigInt(insn.length) + rel) & mask(bits);
      count('branch target', (BigInt(`0x${t[1]}`) & mask(bits)) === want, `target ${want.toString(16)} vs '${body}'`);
    }
  }
  return bad;
}
