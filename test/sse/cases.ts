/**
 * Random instances of every SSE/MMX form in the layer's table (src/x86/sse/form.ts SLOTS), for
 * the native differential test: the encoding (prefix, REX, escape, opcode, ModRM with a [disp32]
 * memory operand in the oracle's window, imm8), and a random machine state biased toward lane
 * edges. Register numbers that would name RSP as a general register are avoided (the oracle
 * cannot load it).
 */
import { decode } from '../../src/x86/decoder/index.js';
import { FLOAT_NAMES } from '../../src/x86/sse/float-names.js';
import { formKey, Method, SLOTS } from '../../src/x86/sse/form.js';
import type { Form } from '../../src/x86/sse/form.js';
import { MEM_BASE, MEM_SIZE } from './oracle.js';
import type { VectorCase } from './oracle.js';
import type { Rng } from '../exec/rng.js';

export interface Case {
  name: string; form: Form; native: VectorCase; top: number;
  /** An encoding the layer has no form for: #UD expected. */
  absent?: boolean;
}

const PREFIX_BYTES = [0, 0x66, 0xf3, 0xf2];
const GPR_METHODS = new Set([Method.G, Method.E, Method.M]);
const STRING_ALPHABET = [0, 0, 0x61, 0x62, 0x63, 0x7a, 0x80, 0xff, 0x41, 0x20];
const EDGE_BYTES = [0, 0xff, 0x80, 0x7f, 1, 0xfe, 0x81];

/** One byte: plain random, a lane edge, or (string mode) a small alphabet with zeros. */
function byte(rng: Rng, strings: boolean): number {
  if (strings) return rng.int(3) === 0 ? rng.int(256) : rng.pick(STRING_ALPHABET);
  return rng.int(3) === 0 ? rng.pick(EDGE_BYTES) : rng.int(256);
}

function fill(rng: Rng, n: number, strings: boolean): Uint8Array {
  const b = new Uint8Array(n);
  // Whole lanes equal across registers and memory are what compares and string ops need.
  const reuse = rng.int(4) === 0 ? rng.int(256) : -1;
  for (let i = 0; i < n; i++) b[i] = reuse >= 0 && rng.int(2) === 0 ? reuse : byte(rng, strings);
  return b;
}

/**
 * Encodings next to the layer's forms that AMD hosts run and the modelled CPU does not offer:
 * SSE4a's MOVNTSS (F3 0F 2B) and MOVNTSD (F2 0F 2B). #UD is right for the model; no host to ask.
 */
const HOST_ONLY = new Set([formKey(1, 0x2b, 2, 0), formKey(1, 0x2b, 3, 0)]);

/** Keys back to their parts: map, opcode, mandatory prefix, ModRM.reg (or -1). */
function keyParts(key: number): { map: number; opcode: number; prefix: number; group: number } {
  const group = key & 15, prefix = (key >> 4) & 3, mo = key >> 6;
  return { map: mo >> 8, opcode: mo & 0xff, prefix, group: group & 8 ? group & 7 : -1 };
}

function encode(rng: Rng, key: number, form: Form, memForm: boolean, prefixOverride = -1): { bytes: Uint8Array; memOffset: number } {
  const parts = keyParts(key);
  const { map, opcode, group } = parts;
  const prefix = prefixOverride >= 0 ? prefixOverride : parts.prefix;
  const regIsGpr = GPR_METHODS.has(form.rmOperand === 0 ? form.src.method : form.dst.method);
  const rmIsGpr = GPR_METHODS.has(form.rmOperand === 0 ? form.dst.method : form.src.method);
  let reg: number, rm: number;
  do { reg = group >= 0 ? group | (rng.int(2) << 3) : rng.int(16); } while (regIsGpr && reg === 4);
  do { rm = rng.int(16); } while (rmIsGpr && rm === 4);
  const rex = 0x40 | (rng.int(2) << 3) | ((reg >> 3) << 2) | (rm >> 3);
  const out: number[] = [];
  if (prefix) out.push(PREFIX_BYTES[prefix]!);
  if (rex !== 0x40 || rng.int(2)) out.push(rex);
  out.push(0x0f);
  if (map === 2) out.push(0x38);
  if (map === 3) out.push(0x3a);
  out.push(opcode);
  let memOffset = -1;
  if (memForm) {
    const size = memSize(form, rex);
    const alignedNeeded = form.aligned && size === 16;
    memOffset = alignedNeeded && rng.int(8) !== 0 ? 16 * rng.int(MEM_SIZE / 16) : rng.int(MEM_SIZE - size + 1);
    const a = MEM_BASE + memOffset;
    out.push(0x04 | ((reg & 7) << 3), 0x25, a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24);
  } else {
    out.push(0xc0 | ((reg & 7) << 3) | (rm & 7));
  }
  out.push(rng.int(4) === 0 ? rng.pick([0, 0xff, 0x40, 0x1b, 0x0c, 0x08, 0x10, 0x20, 0x30]) : rng.int(256));
  const bytes = Uint8Array.from(out);
  try {
    return { bytes: bytes.subarray(0, decode(bytes, 64).length), memOffset };
  } catch {
    return { bytes, memOffset }; // undecodable here (#UD on the soft CPU): the host must agree
  }
}

function memSize(form: Form, rex: number): number {
  const loc = form.rmOperand === 0 ? form.dst : form.src;
  return loc.size < 0 ? (rex & 8 ? 8 : 4) : loc.size;
}

/**
 * casesPerForm random instances of each register and memory form, and a few of each encoding
 * next to them that the layer has no form for (the other mandatory prefixes, the missing
 * register or memory form), which must be #UD here as on the host.
 */
export function makeCases(rng: Rng, casesPerForm: number): Case[] {
  const out: Case[] = [];
  const state = (bytes: Uint8Array, strings: boolean): VectorCase => {
    const regs = Array.from({ length: 16 }, () => rng.value());
    regs[4] = 0n;
    return { bytes, regs, flags: (rng.int(0x1000) & 0x8d5) | 2, xmm: fill(rng, 256, strings), mm: fill(rng, 64, strings), mem: fill(rng, MEM_SIZE, strings) };
  };
  for (const [key, slot] of SLOTS) {
    const any = (slot.reg ?? slot.mem)!;
    const { map, opcode, group } = keyParts(key);
    for (let p = 0; p < 4; p++) {
      const other = formKey(map, opcode, p, group < 0 ? 0 : group);
      if (SLOTS.has(other) || FLOAT_NAMES.has(other) || HOST_ONLY.has(other)) continue;
      for (let i = 0; i < 2; i++) {
        const memForm = rng.int(2) === 0 ? slot.mem !== undefined : slot.reg === undefined;
        out.push({ name: `(none) ${any.name} with prefix ${['none', '66', 'F3', 'F2'][p]}`, form: any, native: state(encode(rng, key, any, memForm, p).bytes, false), top: rng.int(8), absent: true });
      }
    }
    for (const [present, memForm] of [[slot.mem, false], [slot.reg, true]] as const) {
      if (present === undefined || (memForm ? slot.mem : slot.reg) !== undefined) continue;
      for (let i = 0; i < 2; i++) {
        out.push({ name: `(none) ${present.name} ${memForm ? 'memory' : 'register'} form`, form: present, native: state(encode(rng, key, present, memForm).bytes, false), top: rng.int(8), absent: true });
      }
    }
  }
  for (const [key, slot] of SLOTS) {
    for (const [form, memForm] of [[slot.reg, false], [slot.mem, true]] as const) {
      if (form === undefined) continue;
      const strings = /^pcmp[ei]str/.test(form.name);
      for (let i = 0; i < casesPerForm; i++) {
        const { bytes, memOffset } = encode(rng, key, form, memForm);
        const regs = Array.from({ length: 16 }, () => rng.value());
        regs[4] = 0n;
        if (form.name.startsWith('maskmov')) regs[7] = BigInt(MEM_BASE + rng.int(MEM_SIZE - 15));
        if (/^pcmpestr/.test(form.name)) {
          for (const r of [0, 2]) {
            regs[r] = rng.int(3) === 0 ? rng.value() : BigInt.asUintN(64, BigInt(rng.int(41) - 20));
          }
        }
        const flags = (rng.int(0x1000) & 0x8d5) | 2;
        const native: VectorCase = { bytes, regs, flags, xmm: fill(rng, 256, strings), mm: fill(rng, 64, strings), mem: fill(rng, MEM_SIZE, strings) };
        void memOffset;
        out.push({ name: `${form.name} ${memForm ? 'mem' : 'reg'}`, form, native, top: rng.int(8) });
      }
    }
  }
  return out;
}
