/**
 * Random instruction instances for the native differential test: each template draws an
 * encoding (EncSpec) and the register/memory inputs that keep it inside the oracle's memory
 * window. Names say which instruction form each covers.
 */
import type { EncSpec } from './encode.js';
import { MEM_BASE, MEM_SIZE, STACK_RIP } from './native-oracle.js';
import type { Rng } from './rng.js';

export type Size = 1 | 2 | 4 | 8;

/**
 * Inputs a template may constrain: registers (null = random), the flags mask to randomise, and
 * the memory window (already random; a template may read it or patch it).
 */
export interface Setup { regs: (bigint | null)[]; flagsMask: number; mem: Uint8Array }
export interface Template {
  name: string;
  /** Runs with RSP under test (native stack mode, from STACK_RIP); else RSP is 0 and unused. */
  stack?: boolean;
  sizes: readonly Size[];
  make(size: Size, rng: Rng, setup: Setup): EncSpec;
}

const ARITH = 0x8d5, DF = 0x400;
const GPR = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const ALL = [1, 2, 4, 8] as const, WIDE = [2, 4, 8] as const, W48 = [4, 8] as const;

/** Picks registers for the given roles: byte roles may use AH..BH (no REX) or SPL..DIL (REX). */
function regs(rng: Rng, n: number, byteRoles: boolean[], exclude: number[] = [], rexW = false): { r: number[]; forceRex: boolean } {
  const legacy = !rexW && byteRoles.some((b) => b) && rng.int(2) === 0;
  const r: number[] = [];
  for (let i = 0; i < n; i++) {
    let pool = legacy ? [0, 1, 2, 3, 4, 5, 6, 7].filter((x) => byteRoles[i] || x !== 4) : GPR;
    pool = pool.filter((x) => !exclude.includes(x));
    r.push(rng.pick(pool));
  }
  return { r, forceRex: !legacy && byteRoles.some((b) => b) };
}

/** A memory operand [base + disp8] with size bytes inside the window; sets the base register. */
function memOperand(rng: Rng, setup: Setup, size: number, avoid: number[] = []): { rm: number; disp8: number } {
  const base = rng.pick([3, 5, 6, 7, 8, 9, 13, 15].filter((x) => !avoid.includes(x)));
  const baseOff = 96 + rng.int(64);
  const target = rng.int(MEM_SIZE - size + 1 - 32) + 16;
  let disp = target - baseOff;
  if (disp < -128 || disp > 127) disp = 0;
  setup.regs[base] = BigInt(MEM_BASE + baseOff);
  return { rm: base, disp8: disp };
}

function imm(bytes: 1 | 2 | 4 | 8, rng: Rng, signExtend = true): EncSpec['imm'] {
  return { bytes, value: rng.value() & ((1n << BigInt(bytes * 8)) - 1n), signExtend };
}

function immFor(size: Size, rng: Rng): EncSpec['imm'] {
  return imm(size === 8 ? 4 : (size as 1 | 2 | 4), rng);
}

const templates: Template[] = [];
const add = (t: Template): void => { templates.push(t); };

for (let op = 0; op < 8; op++) {
  add({ name: `alu/${op} r/m,r`, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
    return { opcode: op * 8 + (s === 1 ? 0 : 1), opSize: s, reg: r[0], rm: r[1], forceRex };
  } });
  add({ name: `alu/${op} r,r/m`, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
    return { opcode: op * 8 + (s === 1 ? 2 : 3), opSize: s, reg: r[0], rm: r[1], forceRex };
  } });
  add({ name: `alu/${op} acc,imm`, sizes: ALL, make: (s, rng) =>
    ({ opcode: op * 8 + (s === 1 ? 4 : 5), opSize: s, bare: true, imm: immFor(s, rng) }) });
  add({ name: `group1/${op} r/m,imm`, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    return { opcode: s === 1 ? 0x80 : 0x81, opSize: s, reg: op, rm: r[0], forceRex, imm: immFor(s, rng) };
  } });
  add({ name: `group1/${op} r/m,imm8`, sizes: WIDE, make: (s, rng) =>
    ({ opcode: 0x83, opSize: s, reg: op, rm: rng.pick(GPR), imm: imm(1, rng) }) });
  add({ name: `group1/${op} [m],imm`, sizes: ALL, make: (s, rng, setup) =>
    ({ opcode: s === 1 ? 0x80 : 0x81, opSize: s, reg: op, ...memOperand(rng, setup, s), imm: immFor(s, rng) }) });
  add({ name: `alu/${op} [m],r`, sizes: ALL, make: (s, rng, setup) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    // AH..BH exist only without REX: then the base must be one of the first eight registers.
    const legacyHigh = s === 1 && !forceRex && r[0] >= 4;
    const m = memOperand(rng, setup, s, legacyHigh ? [r[0], 8, 9, 13, 15] : [r[0]]);
    return { opcode: op * 8 + (s === 1 ? 0 : 1), opSize: s, reg: r[0], ...m, forceRex };
  } });
}

add({ name: 'test r/m,r', sizes: ALL, make: (s, rng) => {
  const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
  return { opcode: s === 1 ? 0x84 : 0x85, opSize: s, reg: r[0], rm: r[1], forceRex };
} });
add({ name: 'test acc,imm', sizes: ALL, make: (s, rng) => ({ opcode: s === 1 ? 0xa8 : 0xa9, opSize: s, bare: true, imm: immFor(s, rng) }) });
for (const [digit, name] of [[0, 'test r/m,imm'], [2, 'not'], [3, 'neg']] as const) {
  add({ name, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    return { opcode: s === 1 ? 0xf6 : 0xf7, opSize: s, reg: digit, rm: r[0], forceRex, imm: digit === 0 ? immFor(s, rng) : undefined };
  } });
}
for (const [digit, name] of [[0, 'inc'], [1, 'dec']] as const) {
  add({ name, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    return { opcode: s === 1 ? 0xfe : 0xff, opSize: s, reg: digit, rm: r[0], forceRex };
  } });
}
for (let op = 0; op < 8; op++) {
  add({ name: `shift/${op} r/m,CL`, sizes: ALL, make: (s, rng, setup) => {
    const { r, forceRex } = regs(rng, 1, [s === 1], [1]);
    setup.regs[1] = BigInt(rng.int(3) === 0 ? rng.int(256) : rng.int(70));
    return { opcode: s === 1 ? 0xd2 : 0xd3, opSize: s, reg: op, rm: r[0], forceRex };
  } });
  add({ name: `shift/${op} r/m,imm8`, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    return { opcode: s === 1 ? 0xc0 : 0xc1, opSize: s, reg: op, rm: r[0], forceRex,
      imm: { bytes: 1, value: BigInt(rng.int(2) ? rng.int(70) : rng.int(256)), signExtend: false } };
  } });
  add({ name: `shift/${op} r/m,1`, sizes: ALL, make: (s, rng) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    return { opcode: s === 1 ? 0xd0 : 0xd1, opSize: s, reg: op, rm: r[0], forceRex };
  } });
  add({ name: `shift/${op} [m],CL`, sizes: ALL, make: (s, rng, setup) => {
    setup.regs[1] = BigInt(rng.int(70));
    return { opcode: s === 1 ? 0xd2 : 0xd3, opSize: s, reg: op, ...memOperand(rng, setup, s, [1]) };
  } });
}
for (const [opcode, name] of [[0xa4, 'shld imm8'], [0xac, 'shrd imm8']] as const) {
  add({ name, sizes: WIDE, make: (s, rng) => ({ map: 1, opcode, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR),
    imm: { bytes: 1, value: BigInt(rng.int(2) ? rng.int(70) : rng.int(256)), signExtend: false } }) });
}
for (const [opcode, name] of [[0xa5, 'shld CL'], [0xad, 'shrd CL']] as const) {
  add({ name, sizes: WIDE, make: (s, rng, setup) => {
    setup.regs[1] = BigInt(rng.int(70));
    return { map: 1, opcode, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR) };
  } });
}
for (const [opcode, name] of [[0xa3, 'bt'], [0xab, 'bts'], [0xb3, 'btr'], [0xbb, 'btc']] as const) {
  add({ name: `${name} r,r`, sizes: WIDE, make: (s, rng) => ({ map: 1, opcode, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR) }) });
  add({ name: `${name} [m],r`, sizes: WIDE, make: (s, rng, setup) => {
    // Bit-string addressing: the base points at the middle of the window and the signed bit
    // offset reaches up to 4 operand-size units either way.
    const base = rng.pick([3, 6, 7, 9]);
    setup.regs[base] = BigInt(MEM_BASE + 128);
    const offReg = rng.pick(GPR.filter((x) => x !== base));
    setup.regs[offReg] = BigInt.asUintN(64, BigInt(rng.int(8 * s * 8) - 4 * s * 8));
    return { map: 1, opcode, opSize: s, reg: offReg, rm: base, disp8: 0 };
  } });
  add({ name: `${name} r,imm8`, sizes: WIDE, make: (s, rng) => ({ map: 1, opcode: 0xba, opSize: s, reg: 4 + ((opcode >> 3) & 3),
    rm: rng.pick(GPR), imm: { bytes: 1, value: BigInt(rng.int(256)), signExtend: false } }) });
}
for (const [opcode, rep, name] of [[0xbc, 0, 'bsf'], [0xbd, 0, 'bsr'], [0xbc, 0xf3, 'tzcnt'], [0xbd, 0xf3, 'lzcnt'], [0xb8, 0xf3, 'popcnt']] as const) {
  add({ name, sizes: WIDE, make: (s, rng) => ({ map: 1, opcode, opSize: s, rep, reg: rng.pick(GPR), rm: rng.pick(GPR) }) });
}
for (const [digit, name] of [[4, 'mul'], [5, 'imul1'], [6, 'div'], [7, 'idiv']] as const) {
  add({ name, sizes: ALL, make: (s, rng, setup) => {
    const { r, forceRex } = regs(rng, 1, [s === 1]);
    if (digit >= 6 && rng.int(2)) {
      // Mostly dividends that do not overflow: high part small.
      setup.regs[2] = rng.int(2) ? 0n : BigInt(rng.int(4));
      if (rng.int(4) === 0) setup.regs[2] = 0xffffffffffffffffn;
    }
    return { opcode: s === 1 ? 0xf6 : 0xf7, opSize: s, reg: digit, rm: r[0], forceRex };
  } });
}
add({ name: 'imul r,r/m', sizes: WIDE, make: (s, rng) => ({ map: 1, opcode: 0xaf, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR) }) });
add({ name: 'imul r,r/m,imm', sizes: WIDE, make: (s, rng) => ({ opcode: 0x69, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR), imm: immFor(s, rng) }) });
add({ name: 'imul r,r/m,imm8', sizes: WIDE, make: (s, rng) => ({ opcode: 0x6b, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR), imm: imm(1, rng) }) });
add({ name: 'cmovcc', sizes: WIDE, make: (s, rng) => ({ map: 1, opcode: 0x40 + rng.int(16), opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR) }) });
add({ name: 'setcc', sizes: [1], make: (_s, rng) => {
  const { r, forceRex } = regs(rng, 1, [true]);
  return { map: 1, opcode: 0x90 + rng.int(16), opSize: 1, reg: 0, rm: r[0], forceRex };
} });
add({ name: 'cmpxchg r/m,r', sizes: ALL, make: (s, rng, setup) => {
  const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
  if (rng.int(2)) setup.regs[0] = setup.regs[r[1]] = rng.value();
  return { map: 1, opcode: s === 1 ? 0xb0 : 0xb1, opSize: s, reg: r[0], rm: r[1], forceRex };
} });
add({ name: 'cmpxchg [m],r', sizes: ALL, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, s, [0]);
  return { map: 1, opcode: s === 1 ? 0xb0 : 0xb1, opSize: s, reg: rng.pick(GPR.filter((x) => x !== m.rm && x < 4)), ...m };
} });
add({ name: 'xadd r/m,r', sizes: ALL, make: (s, rng) => {
  const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
  return { map: 1, opcode: s === 1 ? 0xc0 : 0xc1, opSize: s, reg: r[0], rm: r[1], forceRex };
} });
add({ name: 'xchg r/m,r', sizes: ALL, make: (s, rng) => {
  const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
  return { opcode: s === 1 ? 0x86 : 0x87, opSize: s, reg: r[0], rm: r[1], forceRex };
} });
add({ name: 'xchg rAX,r', sizes: WIDE, make: (s, rng) => ({ opcode: 0x90, opSize: s, opReg: rng.pick(GPR.filter((x) => x !== 0)) }) });
add({ name: 'bswap', sizes: WIDE, make: (s, rng) => ({ map: 1, opcode: 0xc8, opSize: s, opReg: rng.pick(GPR) }) });
add({ name: 'movzx/movsx', sizes: WIDE, make: (s, rng) => {
  const opcode = rng.pick([0xb6, 0xb7, 0xbe, 0xbf]);
  const { r, forceRex } = regs(rng, 2, [false, (opcode & 1) === 0], [], s === 8);
  return { map: 1, opcode, opSize: s, reg: r[0], rm: r[1], forceRex };
} });
add({ name: 'movsxd', sizes: [4, 8], make: (s, rng) => ({ opcode: 0x63, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR) }) });
add({ name: 'mov r/m,r', sizes: ALL, make: (s, rng) => {
  const { r, forceRex } = regs(rng, 2, [s === 1, s === 1]);
  return { opcode: s === 1 ? 0x88 : 0x89, opSize: s, reg: r[0], rm: r[1], forceRex };
} });
add({ name: 'mov r,imm', sizes: ALL, make: (s, rng) => {
  const { r, forceRex } = regs(rng, 1, [s === 1]);
  return { opcode: s === 1 ? 0xb0 : 0xb8, opSize: s, opReg: r[0], forceRex, imm: imm(s, rng, false) };
} });
add({ name: 'cbw/cwde/cdqe', sizes: WIDE, make: (s) => ({ opcode: 0x98, opSize: s, bare: true }) });
add({ name: 'cwd/cdq/cqo', sizes: WIDE, make: (s) => ({ opcode: 0x99, opSize: s, bare: true }) });
for (const opcode of [0x9e, 0x9f, 0xf5, 0xf8, 0xf9]) {
  add({ name: `flags ${opcode.toString(16)}`, sizes: [4], make: (s) => ({ opcode, opSize: s, bare: true }) });
}
for (const [opcode, name] of [[0xa4, 'movs'], [0xa6, 'cmps'], [0xaa, 'stos'], [0xac, 'lods'], [0xae, 'scas']] as const) {
  add({ name, sizes: ALL, make: (s, rng, setup) => {
    setup.regs[6] = BigInt(MEM_BASE + 96 + rng.int(64));
    setup.regs[7] = BigInt(MEM_BASE + 96 + rng.int(64));
    setup.regs[1] = BigInt(rng.int(9));
    setup.flagsMask = ARITH | DF;
    if ((opcode === 0xa6 || opcode === 0xae) && rng.int(2)) setup.regs[0] = 0n;
    return { opcode: s === 1 ? opcode : opcode + 1, opSize: s, bare: true, rep: rng.pick([0, 0xf3, 0xf2] as const) };
  } });
}

/** Little-endian value of n bytes of the window at offset. */
function memValue(setup: Setup, offset: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(setup.mem[offset + i]);
  return v;
}

/** A random upper half, for registers whose low 32 bits address the window under addr32. */
const upper = (rng: Rng): bigint => (rng.int(2) ? rng.u32() << 32n : 0n);

for (const [digit, name] of [[0, 'test [m],imm'], [2, 'not [m]'], [3, 'neg [m]'], [4, 'mul [m]'], [5, 'imul1 [m]'], [6, 'div [m]'], [7, 'idiv [m]']] as const) {
  add({ name, sizes: ALL, make: (s, rng, setup) => {
    if (digit >= 6) setup.regs[2] = BigInt(rng.int(3));
    return { opcode: s === 1 ? 0xf6 : 0xf7, opSize: s, reg: digit, ...memOperand(rng, setup, s, [0, 2]),
      imm: digit === 0 ? immFor(s, rng) : undefined };
  } });
}
for (const [digit, name] of [[0, 'inc [m]'], [1, 'dec [m]']] as const) {
  add({ name, sizes: ALL, make: (s, rng, setup) => ({ opcode: s === 1 ? 0xfe : 0xff, opSize: s, reg: digit, ...memOperand(rng, setup, s) }) });
}
for (let op = 0; op < 8; op++) {
  add({ name: `shift/${op} [m],imm8`, sizes: ALL, make: (s, rng, setup) => ({ opcode: s === 1 ? 0xc0 : 0xc1, opSize: s, reg: op,
    ...memOperand(rng, setup, s), imm: { bytes: 1, value: BigInt(rng.int(40)), signExtend: false } }) });
}
add({ name: 'shld/shrd [m],r,CL', sizes: WIDE, make: (s, rng, setup) => {
  setup.regs[1] = BigInt(rng.int(40));
  const m = memOperand(rng, setup, s, [1]);
  return { map: 1, opcode: rng.pick([0xa5, 0xad]), opSize: s, reg: rng.pick(GPR.filter((x) => x !== m.rm)), ...m };
} });
add({ name: 'bt* [m],imm8', sizes: WIDE, make: (s, rng, setup) => ({ map: 1, opcode: 0xba, opSize: s, reg: 4 + rng.int(4),
  ...memOperand(rng, setup, s), imm: { bytes: 1, value: BigInt(rng.int(256)), signExtend: false } }) });
add({ name: 'xadd [m],r', sizes: ALL, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, s);
  return { map: 1, opcode: s === 1 ? 0xc0 : 0xc1, opSize: s, reg: rng.pick(GPR.filter((x) => x !== m.rm && x < 4)), ...m };
} });
add({ name: 'xchg [m],r', sizes: ALL, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, s);
  return { opcode: s === 1 ? 0x86 : 0x87, opSize: s, reg: rng.pick(GPR.filter((x) => x !== m.rm && x < 4)), ...m };
} });
add({ name: 'cmpxchg8b/16b [m]', sizes: [4, 8], make: (s, rng, setup) => {
  const wide = s === 8, n = wide ? 16 : 8;
  const base = rng.pick([6, 7, 9]);
  const off = 16 * (1 + rng.int(12));
  setup.regs[base] = BigInt(MEM_BASE + off);
  if (rng.int(2)) {
    // Make the comparison succeed: rDX:rAX = the memory operand.
    const half = n / 2;
    setup.regs[0] = memValue(setup, off, half);
    setup.regs[2] = memValue(setup, off + half, half);
  }
  return { map: 1, opcode: 0xc7, opSize: s, reg: 1, rm: base, disp8: 0 };
} });
add({ name: 'movbe', sizes: WIDE, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, s);
  return { map: 2, opcode: rng.pick([0xf0, 0xf1]), opSize: s, reg: rng.pick(GPR.filter((x) => x !== m.rm)), ...m };
} });
add({ name: 'cmovcc r,[m]', sizes: WIDE, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, s);
  return { map: 1, opcode: 0x40 + rng.int(16), opSize: s, reg: rng.pick(GPR.filter((x) => x !== m.rm)), ...m };
} });
add({ name: 'setcc [m]', sizes: [1], make: (_s, rng, setup) => ({ map: 1, opcode: 0x90 + rng.int(16), opSize: 1, reg: 0, ...memOperand(rng, setup, 1) }) });
add({ name: 'movzx/movsx r,[m]', sizes: WIDE, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, 2);
  return { map: 1, opcode: rng.pick([0xb6, 0xb7, 0xbe, 0xbf]), opSize: s, reg: rng.pick(GPR), ...m };
} });
add({ name: 'mov [m],imm', sizes: ALL, make: (s, rng, setup) => ({ opcode: s === 1 ? 0xc6 : 0xc7, opSize: s, reg: 0, ...memOperand(rng, setup, s), imm: immFor(s, rng) }) });
add({ name: 'mov r,[m]', sizes: ALL, make: (s, rng, setup) => {
  const m = memOperand(rng, setup, s, [4, 5, 6, 7, 8, 9, 13, 15].filter(() => s === 1));
  const { r, forceRex } = regs(rng, 1, [s === 1], [m.rm]);
  if (s === 1 && !forceRex && r[0] >= 4 && m.rm >= 8) return { opcode: 0x8a, opSize: s, reg: r[0] & 3, ...m };
  return { opcode: s === 1 ? 0x8a : 0x8b, opSize: s, reg: r[0], ...m, forceRex };
} });
add({ name: 'lea (SIB, disp32)', sizes: WIDE, make: (s, rng) => {
  const base = rng.int(5) === 0 ? -1 : rng.pick(GPR.concat([4]).filter((x) => x !== 4));
  const index = rng.int(4) === 0 ? -1 : rng.pick(GPR);
  return { opcode: 0x8d, opSize: s, reg: rng.pick(GPR), sib: { base, index, scale: rng.pick([1, 2, 4, 8] as const),
    disp32: Number(BigInt.asIntN(32, rng.value())) }, addrSize: rng.int(3) === 0 ? 4 : 8 };
} });
add({ name: 'mov r,[SIB] addr32', sizes: [4, 8], make: (s, rng, setup) => {
  const base = rng.pick([3, 6, 7, 10]);
  let index = rng.pick([1, 2, 8, 11]);
  const scale = rng.pick([1, 2, 4, 8] as const);
  const ix = rng.int(8);
  setup.regs[index] = BigInt(ix) | upper(rng);
  const target = 64 + rng.int(120);
  const disp32 = rng.int(64) - 32;
  setup.regs[base] = BigInt(MEM_BASE + target - disp32 - ix * scale) | upper(rng);
  if (rng.int(4) === 0) index = -1, setup.regs[base] = BigInt(MEM_BASE + target - disp32);
  return { opcode: 0x8b, opSize: s, reg: 0, sib: { base, index, scale, disp32 }, addrSize: 4 };
} });
add({ name: 'xlat', sizes: [1], make: (_s, rng, setup) => {
  setup.regs[3] = BigInt(MEM_BASE + rng.int(MEM_SIZE - 256 + 1));
  return { opcode: 0xd7, opSize: 1, bare: true };
} });
for (const [opcode, name] of [[0xa4, 'movs'], [0xa6, 'cmps'], [0xaa, 'stos'], [0xac, 'lods'], [0xae, 'scas']] as const) {
  add({ name: `${name} addr32`, sizes: ALL, make: (s, rng, setup) => {
    setup.regs[6] = BigInt(MEM_BASE + 96 + rng.int(64)) | upper(rng);
    setup.regs[7] = BigInt(MEM_BASE + 96 + rng.int(64)) | upper(rng);
    setup.regs[1] = BigInt(rng.int(9)) | upper(rng);
    setup.flagsMask = ARITH | DF;
    return { opcode: s === 1 ? opcode : opcode + 1, opSize: s, bare: true, rep: rng.pick([0, 0xf3, 0xf2] as const), addrSize: 4 };
  } });
}
add({ name: 'mov acc<->moffs', sizes: ALL, make: (s, rng) => {
  const opcode = (s === 1 ? 0xa0 : 0xa1) + (rng.int(2) ? 2 : 0);
  return { opcode, opSize: s, bare: true, moffs: MEM_BASE + 16 + rng.int(MEM_SIZE - 32), addrSize: rng.int(3) === 0 ? 4 : 8 };
} });
add({ name: 'loop/loope/loopne/jrcxz (rel 0)', sizes: [8], make: (_s, rng, setup) => {
  setup.regs[1] = rng.int(2) ? BigInt(rng.int(3)) : rng.value();
  return { opcode: rng.pick([0xe0, 0xe1, 0xe2, 0xe3]), opSize: 8, noRexW: true, bare: true,
    imm: { bytes: 1, value: 0n, signExtend: true }, addrSize: rng.int(2) ? 4 : 8 };
} });
add({ name: 'adcx/adox', sizes: [4, 8], make: (s, rng) => {
  const adox = rng.int(2) === 1;
  return { map: 2, opcode: 0xf6, opSize: s, reg: rng.pick(GPR), rm: rng.pick(GPR), rep: adox ? 0xf3 : 0, prefix66: !adox };
} });
add({ name: 'crc32', sizes: [1, 2, 4, 8], make: (s, rng) => {
  // Operand size here is the source's; the destination is 32-bit (64 with REX.W).
  const { r, forceRex } = regs(rng, 2, [false, s === 1], [], s === 8);
  return { map: 2, opcode: s === 1 ? 0xf0 : 0xf1, opSize: s, reg: r[0], rm: r[1], rep: 0xf2, forceRex };
} });

// Stack and near-branch forms (stack mode): every branch target is the next instruction, so the
// native run falls through to the oracle's epilogue.
const S28 = [2, 8] as const;
/** Points RSP into the window (sometimes misaligned) and returns its window offset. */
function stackTop(rng: Rng, setup: Setup): number {
  const off = 96 + 8 * rng.int(12) + (rng.int(4) === 0 ? rng.int(8) : 0);
  setup.regs[4] = BigInt(MEM_BASE + off);
  return off;
}
function putQword(setup: Setup, off: number, v: bigint): void {
  for (let i = 0; i < 8; i++) setup.mem[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}
const stack = (t: Template): void => add({ ...t, stack: true });

stack({ name: 'push r', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0x50, opSize: s, noRexW: true, opReg: rng.int(16) }; } });
stack({ name: 'pop r', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0x58, opSize: s, noRexW: true, opReg: rng.int(16) }; } });
stack({ name: 'push imm', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return rng.int(2) ? { opcode: 0x6a, opSize: s, noRexW: true, bare: true, imm: imm(1, rng) }
    : { opcode: 0x68, opSize: s, noRexW: true, bare: true, imm: imm(s === 2 ? 2 : 4, rng) }; } });
stack({ name: 'push [m]', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0xff, opSize: s, noRexW: true, reg: 6, ...memOperand(rng, setup, s, [4]) }; } });
stack({ name: 'pop [rsp+disp]', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0x8f, opSize: s, noRexW: true, reg: 0, sib: { base: 4, index: -1, scale: 1, disp32: rng.int(32) - 16 } }; } });
stack({ name: 'pop [m]', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0x8f, opSize: s, noRexW: true, reg: 0, ...memOperand(rng, setup, s, [4]) }; } });
stack({ name: 'pushf', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0x9c, opSize: s, noRexW: true, bare: true }; } });
stack({ name: 'popf', sizes: S28, make: (s, rng, setup) => {
  // Only flags a CPL3 program may flip without side effects: arithmetic, DF, and IF (ignored).
  const off = stackTop(rng, setup);
  putQword(setup, off, BigInt(rng.int(0x1000) & 0xed5) | (rng.u32() << 32n & (s === 8 ? 0n : 0xffffffff00000000n)));
  return { opcode: 0x9d, opSize: s, noRexW: true, bare: true };
} });
stack({ name: 'call rel32', sizes: [8], make: (_s, rng, setup) => { stackTop(rng, setup);
  return { opcode: 0xe8, opSize: 8, noRexW: true, bare: true, imm: { bytes: 4, value: 0n, signExtend: true } }; } });
stack({ name: 'call r', sizes: [8], make: (_s, rng, setup) => { stackTop(rng, setup);
  const r = rng.pick(GPR);
  setup.regs[r] = BigInt(STACK_RIP + (r >= 8 ? 3 : 2));
  return { opcode: 0xff, opSize: 8, noRexW: true, reg: 2, rm: r }; } });
stack({ name: 'ret / ret imm16', sizes: [8], make: (_s, rng, setup) => {
  const off = stackTop(rng, setup);
  const withImm = rng.int(2) === 1;
  putQword(setup, off, BigInt(STACK_RIP + (withImm ? 3 : 1)));
  return withImm ? { opcode: 0xc2, opSize: 8, noRexW: true, bare: true, imm: { bytes: 2, value: BigInt(rng.int(64)), signExtend: false } }
    : { opcode: 0xc3, opSize: 8, noRexW: true, bare: true };
} });
stack({ name: 'enter', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  setup.regs[5] = BigInt(MEM_BASE + 160 + rng.int(64));
  return { opcode: 0xc8, opSize: s, noRexW: true, bare: true, imm: { bytes: 2, value: BigInt(rng.pick([0, 1, 8, 0x20, 0x30])), signExtend: false },
    imm2: rng.pick([0, 1, 2, 3, 4, 33]) };
} });
stack({ name: 'leave', sizes: S28, make: (s, rng, setup) => { stackTop(rng, setup);
  setup.regs[5] = BigInt(MEM_BASE + 64 + rng.int(128));
  return { opcode: 0xc9, opSize: s, noRexW: true, bare: true };
} });

export const TEMPLATES: readonly Template[] = templates;
