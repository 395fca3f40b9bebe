/**
 * A minimal WebAssembly binary writer: what the soft CPU's wasm block tier emits (one module per
 * batch of blocks: a memory import, function imports, an exported function per block, their
 * names; and the chain that runs blocks one after another through a table of them, chain.ts). Opcodes are named in OP;
 * instruction bytes are appended to a Code buffer as the translator walks its input.
 */

export const I32 = 0x7f, I64 = 0x7e, F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;
/** Block type of a structured instruction with no result. */
export const VOID = 0x40;

/** Reference type of a table of functions. */
export const FUNCREF = 0x70;

/** Single-byte opcodes (0xfc-prefixed ones are in OP_FC). */
export const OP = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, try: 0x06, rethrow: 0x09, end: 0x0b,
  br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10, callIndirect: 0x11, drop: 0x1a, select: 0x1b, catchAll: 0x19,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, f64Load: 0x2b, i32Load8u: 0x2d, i32Load16u: 0x2f,
  i32Store: 0x36, f64Store: 0x39, i32Store8: 0x3a, i32Store16: 0x3b,
  i32Const: 0x41, i64Const: 0x42, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32RemU: 0x70, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  f64Abs: 0x99, f64Neg: 0x9a, f64Floor: 0x9c, f64Trunc: 0x9d, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3, f64Copysign: 0xa6,
  i32WrapI64: 0xa7, f64ConvertI32S: 0xb7, f64ConvertI32U: 0xb8, f64ConvertI64U: 0xba,
} as const;
export const OP_FC = { i64TruncSatF64S: 0x06, i64TruncSatF64U: 0x07 } as const;

/** Bytes of one function body's instructions. */
export class Code {
  readonly bytes: number[] = [];

  op(...ops: number[]): this {
    for (const o of ops) this.bytes.push(o);
    return this;
  }

  fc(op: number): this {
    return this.op(0xfc).u32(op);
  }

  u32(v: number): this {
    pushU32(this.bytes, v);
    return this;
  }

  i32Const(v: number): this {
    this.op(OP.i32Const);
    pushS64(this.bytes, BigInt(v | 0));
    return this;
  }

  f64Const(v: number): this {
    this.op(OP.f64Const);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  /** A load or store with its memarg (log2 alignment, constant offset). */
  mem(op: number, alignLog2: number, offset = 0): this {
    return this.op(op).u32(alignLog2).u32(offset);
  }
}

function pushU32(out: number[], v: number): void {
  let x = v >>> 0;
  do {
    const b = x & 0x7f;
    x >>>= 7;
    out.push(x !== 0 ? b | 0x80 : b);
  } while (x !== 0);
}

function pushS64(out: number[], v: bigint): void {
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return;
  }
}

function pushName(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  pushU32(out, b.length);
  for (const x of b) out.push(x);
}

/**
 * A module's bytes as they are written: a Uint8Array that doubles when full (an array of
 * numbers spread into another and converted at the end cost more than the translation that
 * made them, for modules of many blocks).
 */
class Bytes {
  private buf = new Uint8Array(4096);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  all(bytes: ArrayLike<number>): void {
    const n = bytes.length;
    this.room(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[this.length + i] = bytes[i]!;
    this.length += n;
  }

  u32(v: number): void {
    const b: number[] = [];
    pushU32(b, v);
    this.all(b);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A section: id, size, then what fill writes (into a writer of its own, to know the size). */
function section(out: Bytes, id: number, fill: (w: Bytes) => void): void {
  const w = new Bytes();
  fill(w);
  out.byte(id);
  out.u32(w.length);
  out.all(w.result());
}

interface FunctionDef { type: number; locals: ValType[]; code: Code }

/** One module: types, imports (memory first, then functions), defined functions, exports. */
export class ModuleBuilder {
  private readonly types: { params: ValType[]; results: ValType[] }[] = [];
  private readonly imports: number[][] = [];
  private importedFunctions = 0;
  private readonly functions: FunctionDef[] = [];
  private readonly exports: { name: string; index: number }[] = [];
  private readonly names: { index: number; name: string }[] = [];

  type(params: ValType[], results: ValType[]): number {
    const key = `${params.join()}:${results.join()}`;
    const at = this.types.findIndex((t) => `${t.params.join()}:${t.results.join()}` === key);
    if (at >= 0) return at;
    this.types.push({ params, results });
    return this.types.length - 1;
  }

  /** Imports module.name as memory 0: minimum and maximum in 64 KiB pages. */
  importMemory(module: string, name: string, min: number, max: number, shared: boolean): void {
    const e: number[] = [];
    pushName(e, module); pushName(e, name);
    e.push(0x02, shared ? 0x03 : 0x01);
    pushU32(e, min); pushU32(e, max);
    this.imports.push(e);
  }

  /** Imports module.name as table 0, of funcref, at least min elements. */
  importTable(module: string, name: string, min: number): void {
    const e: number[] = [];
    pushName(e, module); pushName(e, name);
    e.push(0x01, FUNCREF, 0x00);
    pushU32(e, min);
    this.imports.push(e);
  }

  /** Returns the function index (imports come first: import all before defining). */
  importFunction(module: string, name: string, type: number): number {
    if (this.functions.length !== 0) throw new Error('wasm encoder: function imports go before definitions');
    const e: number[] = [];
    pushName(e, module); pushName(e, name);
    e.push(0x00);
    pushU32(e, type);
    this.imports.push(e);
    return this.importedFunctions++;
  }

  define(type: number, locals: ValType[], code: Code): number {
    this.functions.push({ type, locals, code });
    return this.importedFunctions + this.functions.length - 1;
  }

  export(name: string, index: number): void {
    this.exports.push({ name, index });
  }

  /** Names function index in the module's name section (what profilers and stack traces show). */
  name(index: number, name: string): void {
    this.names.push({ index, name });
  }

  bytes(): Uint8Array {
    const out = new Bytes();
    out.all([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    section(out, 1, (w) => {
      w.u32(this.types.length);
      for (const t of this.types) {
        w.byte(0x60);
        w.u32(t.params.length); w.all(t.params);
        w.u32(t.results.length); w.all(t.results);
      }
    });
    section(out, 2, (w) => {
      w.u32(this.imports.length);
      for (const e of this.imports) w.all(e);
    });
    section(out, 3, (w) => {
      w.u32(this.functions.length);
      for (const f of this.functions) w.u32(f.type);
    });
    section(out, 7, (w) => {
      w.u32(this.exports.length);
      for (const e of this.exports) {
        const name: number[] = [];
        pushName(name, e.name);
        w.all(name); w.byte(0x00); w.u32(e.index);
      }
    });
    section(out, 10, (w) => {
      w.u32(this.functions.length);
      for (const f of this.functions) {
        const head: number[] = [];
        // Locals as runs of one type.
        const runs: [number, ValType][] = [];
        for (const t of f.locals) {
          const last = runs[runs.length - 1];
          if (last !== undefined && last[1] === t) last[0]++;
          else runs.push([1, t]);
        }
        pushU32(head, runs.length);
        for (const [n, t] of runs) { pushU32(head, n); head.push(t); }
        w.u32(head.length + f.code.bytes.length + 1);
        w.all(head); w.all(f.code.bytes); w.byte(OP.end);
      }
    });
    if (this.names.length !== 0) {
      // The custom "name" section, function names subsection (1): indices in increasing order.
      section(out, 0, (w) => {
        const head: number[] = [];
        pushName(head, 'name');
        w.all(head);
        const sub = new Bytes();
        sub.u32(this.names.length);
        for (const { index, name } of [...this.names].sort((a, b) => a.index - b.index)) {
          const n: number[] = [];
          pushName(n, name);
          sub.u32(index); sub.all(n);
        }
        w.byte(1); w.u32(sub.length); w.all(sub.result());
      });
    }
    return out.result();
  }
}
