#!/usr/bin/env node
// Compares the decoder's instruction lengths with GNU objdump's on real code.
//
//   node scripts/decoder-vs-objdump.mjs [--mode 64|32|16] [--max-bytes N] [--as i386|i8086] [FILE...]
//   node scripts/decoder-vs-objdump.mjs --random N [--seed S] --mode 64|32|16
//   node scripts/decoder-vs-objdump.mjs --exhaustive [--prefix HEX] --mode 64|32|16
//   add --operands to any of these: where lengths agree, also compare the decoded operands with
//   objdump's text (memory operand, registers, immediate, branch target; decoder-operand-check.ts)
//
// --random: instead of real code, N bytes of random instruction-shaped strings (the fuzz
// generator) written to a raw file and swept by objdump -b binary: exotic encodings, prefix
// piles and undefined opcodes that real binaries never contain.
// --exhaustive: every opcode of the one-byte, 0F, 0F 38 and 0F 3A maps with every second byte
// (ModRM) 00-FF, optionally after a prefix (--prefix 66, 67, f3, 48...), each followed by ten
// 0x90 bytes: they serve as SIB/displacement/immediate and, past the instruction, decode as
// one-byte NOPs, so objdump's sweep is back in step at the next candidate.
// Without FILEs: 64-bit mode takes ELF x86-64 executables from /usr/bin; 32-bit mode takes the
// 32-bit ELF programs that exist on the machine (valgrind's *-x86-linux tools) or, with
// --as i386 / --as i8086, re-reads 64-bit .text bytes as raw 32/16-bit code (objdump -b binary -m).
// objdump gives each instruction's address and bytes (-z: zero runs too, --insn-width=16: all
// bytes on one line); the decoder decodes at every such boundary with the following bytes
// available; lengths are compared. Instructions objdump calls '(bad)' are counted apart.
// Needs a build first (npx tsc -p .).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { writeFileSync } from 'node:fs';
import { decode } from '../dist/src/x86/decoder/index.js';
import { randomCode } from '../dist/src/x86/decoder/random-code.js';
import { checkOperands } from '../dist/scripts/decoder-operand-check.js';

const args = process.argv.slice(2);
let mode = 64, maxBytes = 8 << 20, rawAs = '', randomBytes = 0, seed = Date.now() >>> 0;
let exhaustive = false, prefix = [], operands = false;
const operandStats = {};
const operandClasses = new Map();
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--mode') mode = Number(args[++i]);
  else if (args[i] === '--max-bytes') maxBytes = Number(args[++i]);
  else if (args[i] === '--as') rawAs = args[++i];
  else if (args[i] === '--random') randomBytes = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]) >>> 0;
  else if (args[i] === '--exhaustive') exhaustive = true;
  else if (args[i] === '--operands') operands = true;
  else if (args[i] === '--prefix') prefix = args[++i].match(/../g).map((h) => parseInt(h, 16));
  else files.push(args[i]);
}
if (rawAs === 'i386') mode = 32;
if (rawAs === 'i8086') mode = 16;

function elfClass(path) {
  try {
    const b = readFileSync(path, { flag: 'r' }).subarray(0, 20);
    if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) return 0;
    const machine = b[18] | (b[19] << 8);
    return machine === 62 ? 64 : machine === 3 ? 32 : 0;
  } catch { return 0; }
}

function defaultFiles() {
  const dirs = mode === 64 || rawAs ? ['/usr/bin'] : ['/usr/libexec/valgrind'];
  const want = rawAs ? 64 : mode;
  const out = [];
  for (const d of dirs) {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (!st.isFile() || st.size > 40 << 20) continue;
      if (elfClass(p) === want) out.push(p);
    }
  }
  return out;
}

const RANDOM = '(random)';

function randomBuffer(size, s) {
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Uint8Array(size + 64);
  let n = 0;
  while (n < size) n += randomCode(rand, out.subarray(n));
  return out.subarray(0, size);
}

/** Every (map, opcode, next byte) candidate, each followed by ten NOPs; starts recorded in CANDIDATES. */
const CANDIDATES = new Set();
function exhaustiveBuffer() {
  const out = [];
  for (const esc of [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]]) {
    for (let op = 0; op < 256; op++) {
      if (esc.length === 0 && op === 0x0f) continue;
      if (esc.length === 1 && (op === 0x38 || op === 0x3a)) continue;
      for (let b = 0; b < 256; b++) {
        CANDIDATES.add(out.length);
        out.push(...prefix, ...esc, op, b, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90);
      }
    }
  }
  return Uint8Array.from(out);
}

const LINE = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$/;

/** Runs objdump, returns [{addr, bytes: number[], text}] in address order. */
function disassemble(path) {
  let argv;
  let tmp;
  if (path === RANDOM) {
    tmp = mkdtempSync(join(tmpdir(), 'dec-objdump-'));
    const raw = join(tmp, 'random.bin');
    writeFileSync(raw, exhaustive ? exhaustiveBuffer() : randomBuffer(randomBytes, seed));
    const machine = mode === 64 ? ['-m', 'i386:x86-64', '-M', 'intel64'] : ['-m', mode === 32 ? 'i386' : 'i8086'];
    argv = ['-D', '-z', '--insn-width=16', '-b', 'binary', ...machine, raw];
  } else if (rawAs) {
    tmp = mkdtempSync(join(tmpdir(), 'dec-objdump-'));
    const raw = join(tmp, 'text.bin');
    const r = spawnSync('objcopy', ['-O', 'binary', '--only-section=.text', path, raw]);
    if (r.status !== 0) { rmSync(tmp, { recursive: true }); return []; }
    argv = ['-D', '-z', '--insn-width=16', '-b', 'binary', '-m', rawAs, raw];
  } else {
    // -M intel64: 66-prefixed near branches keep rel32 in 64-bit mode (Intel), as the decoder does.
    argv = ['-d', '-z', '--insn-width=16', ...(mode === 64 ? ['-M', 'intel64'] : []), '-j', '.text', path];
  }
  const out = execFileSync('objdump', argv, { maxBuffer: 1 << 30, encoding: 'latin1' });
  if (tmp) rmSync(tmp, { recursive: true });
  const insns = [];
  for (const line of out.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const bytes = m[2].trim().split(' ').map((h) => parseInt(h, 16));
    const text = m[3].trim();
    const prev = insns[insns.length - 1];
    // A line without text continues the previous instruction (objdump wraps past --insn-width,
    // for prefix piles longer than the architectural 15 bytes).
    if (text === '' && prev && parseInt(m[1], 16) === prev.addr + prev.bytes.length) prev.bytes.push(...bytes);
    else insns.push({ addr: parseInt(m[1], 16), bytes, text });
  }
  return insns;
}

let total = 0, agree = 0, rejected = 0, fusedFwait = 0, prefixSplit = 0, objdumpBad = 0, filesDone = 0, bytesDone = 0;
const classes = new Map();
function note(key, example) {
  const c = classes.get(key) ?? { count: 0, example };
  c.count++;
  classes.set(key, c);
}

const PREFIX = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);
function opcodeKey(bytes) {
  let i = 0;
  while (i < bytes.length && (PREFIX.has(bytes[i]) || (mode === 64 && (bytes[i] & 0xf0) === 0x40))) i++;
  const k = bytes.slice(i, bytes[i] === 0x0f ? i + 3 : i + 2).map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return k || 'prefix-only';
}

const list = randomBytes || exhaustive ? [RANDOM] : files.length ? files : defaultFiles();
for (const path of list) {
  if (bytesDone >= maxBytes) break;
  const insns = disassemble(path);
  if (insns.length === 0) continue;
  filesDone++;
  // Contiguous runs of instructions become one buffer, so decode sees the real following bytes.
  let start = 0;
  while (start < insns.length) {
    let end = start + 1;
    while (end < insns.length && insns[end].addr === insns[end - 1].addr + insns[end - 1].bytes.length) end++;
    const base = insns[start].addr;
    const size = insns[end - 1].addr + insns[end - 1].bytes.length - base;
    const buf = new Uint8Array(size);
    for (let i = start; i < end; i++) buf.set(insns[i].bytes, insns[i].addr - base);
    for (let i = start; i < end; i++) {
      const ins = insns[i];
      if (exhaustive && !CANDIDATES.has(ins.addr)) continue; // filler NOPs
      if (ins.text.includes('(bad)')) { objdumpBad++; continue; }
      // objdump prints a prefix it considers ignored (REX before a legacy prefix, a prefix before
      // an opcode it rejects) as an instruction of its own; the CPU counts it in the next one.
      if (opcodeKey(ins.bytes) === 'prefix-only') { prefixSplit++; continue; }
      total++;
      bytesDone += ins.bytes.length;
      let len, err, insn;
      try { insn = decode(buf, mode, ins.addr - base); len = insn.length; } catch (e) { err = e; }
      if (len === ins.bytes.length) {
        agree++;
        if (operands) {
          for (const why of checkOperands(insn, ins.text, ins.addr, mode, operandStats)) {
            const key = `${insn.mnemonic} ${why.split(':')[0]}`;
            const c = operandClasses.get(key) ?? { count: 0, example: `${path}@${ins.addr.toString(16)}: ${why}  [${ins.text}]` };
            c.count++;
            operandClasses.set(key, c);
          }
        }
        continue;
      }
      // objdump prints FWAIT (9B, maybe prefixed) and a following x87 instruction as one ('finit' =
      // fwait; fninit); architecturally they are two. Count the pair apart when the rest matches.
      if (len !== undefined && len < ins.bytes.length && ins.bytes[len - 1] === 0x9b) {
        if (opcodeKey(ins.bytes.slice(len)) === 'prefix-only') { fusedFwait++; continue; } // FWAIT + a prefix objdump printed with it
        try {
          if (decode(buf, mode, ins.addr - base + len).length === ins.bytes.length - len) { fusedFwait++; continue; }
        } catch { /* falls through to a disagreement */ }
      }
      const hexb = ins.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const why = err ? `${err.code ?? 'THROW'}` : `len ${len} vs ${ins.bytes.length}`;
      if (err && !err.code) throw err; // anything but VmmError is a decoder bug: stop loudly
      if (err) rejected++;
      note(`${opcodeKey(ins.bytes)} [${ins.text.split(/\s+/)[0]}] ${why}`, `${path}@${ins.addr.toString(16)}: ${hexb}  ${ins.text}`);
    }
    start = end;
  }
}

const rate = total ? (100 * agree) / total : 0;
console.log(`mode ${mode}${rawAs ? ` (raw .text bytes as ${rawAs})` : ''}${randomBytes ? ` (random code, seed ${seed})` : ''}${exhaustive ? ` (exhaustive, prefix '${prefix.map((b) => b.toString(16)).join(' ')}')` : ''}: ${filesDone} files, ${total} instructions, ` +
  `${agree} same length, agreement ${rate.toFixed(4)}%; of the rest: ${fusedFwait} FWAIT+x87 pairs objdump prints as ` +
  `one (decoder: 1 + rest, matching), ${rejected} rejected by the decoder (ENODEV/EFAULT), ` +
  `${total - agree - rejected - fusedFwait} decoded to another length; not compared: objdump '(bad)' ${objdumpBad}, ` +
  `prefixes objdump printed alone ${prefixSplit}`);
const sorted = [...classes.entries()].sort((a, b) => b[1].count - a[1].count);
if (sorted.length) console.log('disagreeing classes (opcode bytes [objdump mnemonic] outcome: count, example):');
for (const [k, v] of sorted.slice(0, Number(process.env.CLASSES ?? 40))) console.log(`  ${k}: ${v.count}   e.g. ${v.example}`);
if (operands) {
  console.log(`operands vs objdump text: ${Object.entries(operandStats).map(([k, v]) => `${k} ${v.checked - v.wrong}/${v.checked}`).join(', ')}`);
  for (const [k, v] of [...operandClasses.entries()].sort((a, b) => b[1].count - a[1].count).slice(0, 30)) {
    console.log(`  ${k}: ${v.count}   e.g. ${v.example}`);
  }
}
console.log(JSON.stringify({ mode, rawAs: rawAs || null, files: filesDone, instructions: total, agree, rate, fusedFwait, rejected, prefixSplit, objdumpBad, classes: sorted.length }));
