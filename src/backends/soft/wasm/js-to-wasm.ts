/**
 * Translates one JavaScript function, written in the subset the block compiler generates
 * (block-compile.ts: numbers, typed-array and field accesses, helper calls, if/for(;;)/
 * try-finally), into a WebAssembly function with the same result and the same effects. The
 * wasm tier of the soft CPU uses it so that each instruction's meaning stays written once: the
 * block compiler's text, with the executor helpers' bodies inlined, is the only description of
 * a block; wasm is a second way to run it, compiled in microseconds instead of TurboFan's
 * milliseconds.
 *
 * JS numbers are doubles. Values are kept as wasm i32 where JS semantics make them 32-bit
 * integers (results of | & ^ << >> ~, Int32Array loads, small integer literals), as u32 for
 * >>> and Uint8/16 loads, and as f64 otherwise, so every operation gives the double JS gives:
 * + - * on f64 unless the result is read only modulo 2^32 (an operand of a bitwise operator),
 * where i32 arithmetic is exact; ToInt32 of an f64 is exact for every double.
 *
 * What the function's free names mean comes from an environment (Binding): constants, numbers
 * in memory (a field such as cpu.lfOp), arrays in memory, objects grouping those, memory itself
 * as a view (tlb.ram32[index]: the index is an address over 4) or viewed per slot (mem[slot][index]:
 * the slot is ignored), and imported functions. Anything outside the subset throws WasmUnsupported: the caller keeps
 * the JS function. Two things the generated text guarantees and the translator takes as given:
 * a variable is assigned before it is read (JS would read undefined, wasm reads 0), and array
 * indices are in bounds (JS would read undefined; wasm reads whatever is at that address, or
 * traps beyond the memory).
 */
import { parseScript } from 'meriyah';
// The ESTree node types, as acorn declares them (types only: meriyah parses, 1.5-2 times as fast
// as acorn on the wasm tier's block texts).
import type * as A from 'acorn';
import { Code, F64, I32, ModuleBuilder, OP, OP_FC, VOID, type ValType } from './encoder.js';

export class WasmUnsupported extends Error {}

export type Elem = 'i32' | 'u8' | 'u16' | 'f64';
export type Scalar = 'i32' | 'f64';
export type Binding =
  | { kind: 'const'; value: number | boolean }
  /** A number stored in memory at addr (i32 or f64). */
  | { kind: 'slot'; addr: number; type: Scalar }
  /** name[i]: element i of an array at base. */
  | { kind: 'array'; base: number; elem: Elem }
  /**
   * name[any]: a view of memory as elem (the index picks a view the host keeps per slot; here
   * all of them are the whole memory), so name[any][i] is element i (address i * size).
   */
  | { kind: 'memory'; elem: Elem }
  /** One of a memory binding's views: name[i] is element i of memory. */
  | { kind: 'view'; elem: Elem }
  /** A field whose read calls an imported function (an accessor). */
  | { kind: 'getter'; name: string; result: Scalar }
  | { kind: 'object'; fields: Readonly<Record<string, Binding>> }
  /**
   * An imported function: args gives each argument's wasm type, or 'omit' for an argument the
   * JS side supplies itself (it must be a compile-time binding such as an object); one import
   * serves every call. Without args, each call's arguments that name bindings (objects...) are
   * omitted and the rest pass as f64: calls differing in the bindings they pass are different
   * imports (Translation.imports says which).
   */
  | { kind: 'import'; name: string; args?: readonly (Scalar | 'omit')[]; result: Scalar | 'bool' | 'void' }
  /** A parameter of the translated function, passed as a wasm parameter of this type. */
  | { kind: 'param'; type: Scalar }
  /**
   * A JS function translated in place of each call: source is `function name(params) {...}`
   * with at most one return, its last statement; its free names mean what the environment says.
   */
  | { kind: 'inline'; name: string; source: string; fallback?: Extract<Binding, { kind: 'import' }> };

export interface Translation {
  /** The module's bytes: imports memory as env.memory and each used import as env.<name>. */
  bytes: Uint8Array;
  /**
   * The imported functions the module uses, in import order: env.<key> is the import; objects[i]
   * names the binding a call passed as argument i where the wasm call omits it (undefined: a
   * number the wasm call passes).
   */
  imports: ImportUse[];
}

export interface ImportUse { key: string; name: string; objects: (string | undefined)[] }

export interface TranslateOptions {
  /** Meaning of the function's parameters and free names. */
  env: Readonly<Record<string, Binding>>;
  result: Scalar;
  /** The imported memory: pages (64 KiB) minimum and maximum, and whether it is shared. */
  memory: { min: number; max: number; shared: boolean };
  /** The export's name (default "run"). */
  exportName?: string;
  /**
   * Variables declared in the function's body (its own statements, not nested blocks) that the
   * caller guarantees hold int32 values throughout, such as a count bounded by an int32 budget:
   * they are i32 locals, and + - ++ on them wrap as i32 (exact under the guarantee), where a
   * JS number updated by += is a double to the translator.
   */
  int32Vars?: readonly string[];
}

type Kind = 'bool' | 'i32' | 'u32' | 'f64';

interface Var { local: number; kind: Kind | undefined; int32?: true }
/** A runtime array base (a const chosen between two arrays of one element type at run time). */
interface DynArray { kind: 'dynarray'; local: number; elem: Elem }
type Ref = Var | Binding | DynArray;

const ELEM_SIZE: Record<Elem, number> = { i32: 4, u8: 1, u16: 2, f64: 8 };
const TWO63 = 2 ** 63, TWO64 = 2 ** 64;

function isVar(r: Ref): r is Var {
  return 'local' in r && (r as DynArray).kind !== 'dynarray';
}

function fail(node: A.Node | undefined, what: string): never {
  throw new WasmUnsupported(`wasm translation: ${what}${node ? ` (${node.type} at ${node.start})` : ''}`);
}

function joinKind(a: Kind | undefined, b: Kind): Kind {
  if (a === undefined || a === b) return b;
  if (a === 'bool' || b === 'bool') fail(undefined, 'a variable holding both booleans and numbers');
  return 'f64';
}

const INT_BINARY: Record<string, number> = {
  '|': OP.i32Or, '&': OP.i32And, '^': OP.i32Xor, '<<': OP.i32Shl, '>>': OP.i32ShrS, '>>>': OP.i32ShrU,
};
const COMPARE: Record<string, { s: number; u: number; f: number }> = {
  '===': { s: OP.i32Eq, u: OP.i32Eq, f: OP.f64Eq }, '==': { s: OP.i32Eq, u: OP.i32Eq, f: OP.f64Eq },
  '!==': { s: OP.i32Ne, u: OP.i32Ne, f: OP.f64Ne }, '!=': { s: OP.i32Ne, u: OP.i32Ne, f: OP.f64Ne },
  '<': { s: OP.i32LtS, u: OP.i32LtU, f: OP.f64Lt }, '<=': { s: OP.i32LeS, u: OP.i32LeU, f: OP.f64Le },
  '>': { s: OP.i32GtS, u: OP.i32GtU, f: OP.f64Gt }, '>=': { s: OP.i32GeS, u: OP.i32GeU, f: OP.f64Ge },
};
/** JS binary operators on constants (what evalConst folds). */
const CONST_BINARY: Record<string, (a: number, b: number) => number | boolean> = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b,
  '|': (a, b) => a | b, '&': (a, b) => a & b, '^': (a, b) => a ^ b, '<<': (a, b) => a << b, '>>': (a, b) => a >> b,
  '>>>': (a, b) => a >>> b, '===': (a, b) => a === b, '!==': (a, b) => a !== b, '==': (a, b) => a == b,
  '!=': (a, b) => a != b, '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};
const F64_ARITH: Record<string, number> = { '+': OP.f64Add, '-': OP.f64Sub, '*': OP.f64Mul, '/': OP.f64Div };
const LOAD: Record<Elem, [number, number]> = { i32: [OP.i32Load, 2], u8: [OP.i32Load8u, 0], u16: [OP.i32Load16u, 1], f64: [OP.f64Load, 3] };
const STORE: Record<Elem, [number, number]> = { i32: [OP.i32Store, 2], u8: [OP.i32Store8, 0], u16: [OP.i32Store16, 1], f64: [OP.f64Store, 3] };
const ELEM_KIND: Record<Elem, Kind> = { i32: 'i32', u8: 'u32', u16: 'u32', f64: 'f64' };

/** How deep inlined functions may call inlined functions. */
const MAX_INLINE_DEPTH = 6;

/** A function's control frame: br depths count these. */
type Frame = 'break' | 'continue' | 'exit' | 'other' | `inline${number}`;

/** One call of an inline binding, resolved in a scope of its own. */
interface InlineSite {
  name: string; params: Ref[]; args: A.Expression[]; body: A.Statement[];
  /** The returned value; valued: whether every path ends in a return with a value. */
  result: Var; valued: boolean;
  /** The site's control frame (its returns branch out of it). */
  frame: Frame;
}


export function translateFunction(source: string, options: TranslateOptions): Translation {
  const t = translator(source, options);
  t.prepare();
  const mod = new ModuleBuilder();
  mod.importMemory('env', 'memory', options.memory.min, options.memory.max, options.memory.shared);
  t.importInto(mod, '');
  // The ToInt32 helper is defined after the main function.
  const main = t.emitInto(mod, t.importCount + 1);
  mod.define(mod.type([F64], [I32]), [], toInt32Body());
  mod.export(options.exportName ?? 'run', main);
  return { bytes: mod.bytes(), imports: t.imports() };
}

/** Several functions' translations in one module. */
export interface Translations {
  /** Imports memory as env.memory and function k's import key as env.<k>.<key>; exports function k as run<k>. */
  bytes: Uint8Array;
  /** Each function's imports, as Translation.imports (keys without the <k>. prefix); the module imports them all. */
  imports: (ImportUse[] | undefined)[];
  /** Whether function k is in the module (false: outside the subset; its imports may still be). */
  translated: boolean[];
}

/**
 * Translates several functions (each as translateFunction would, with its own options; memory
 * taken from the first) into one module, leaving out those outside the subset. A module is a
 * unit of the engine's code memory: one per function puts each in pages of its own, and code
 * that calls from one to the next then misses the instruction TLB at every call.
 */
export function translateFunctions(list: readonly { source: string; options: TranslateOptions; name?: string }[]): Translations {
  const ts = list.map(({ source, options }) => {
    try {
      const t = translator(source, options);
      t.prepare();
      return t;
    } catch (e) {
      if (e instanceof WasmUnsupported) return undefined;
      throw e;
    }
  });
  const memory = list[0]?.options.memory ?? { min: 0, max: 0, shared: false };
  const mod = new ModuleBuilder();
  mod.importMemory('env', 'memory', memory.min, memory.max, memory.shared);
  ts.forEach((t, k) => t?.importInto(mod, `${k}.`));
  // The ToInt32 helper first: its index must be known before the functions are, and a function
  // refused while being emitted is then simply not defined.
  const toInt32 = mod.define(mod.type([F64], [I32]), [], toInt32Body());
  const translated = ts.map((t, k) => {
    if (t === undefined) return false;
    try {
      const index = t.emitInto(mod, toInt32);
      mod.export(`run${k}`, index);
      const name = list[k]!.name;
      if (name !== undefined) mod.name(index, name);
      return true;
    } catch (e) {
      if (e instanceof WasmUnsupported) return false;
      throw e;
    }
  });
  return { bytes: mod.bytes(), imports: ts.map((t) => t?.imports()), translated };
}

/** An ESTree program with each node's start and end offsets. */
function parse(text: string): A.Program {
  return parseScript(text, { ranges: true }) as unknown as A.Program;
}

function translator(source: string, options: TranslateOptions): Translator {
  let program: A.Program;
  try {
    program = parse(`(${source})`);
  } catch (e) {
    fail(undefined, `unparsable source: ${(e as Error).message}`);
  }
  const stmt = program.body[0];
  if (program.body.length !== 1 || stmt?.type !== 'ExpressionStatement' || stmt.expression.type !== 'FunctionExpression') {
    fail(stmt, 'the source is not one function');
  }
  return new Translator(stmt.expression, options);
}

class Translator {
  private readonly refs = new Map<A.Node, Ref>();
  private readonly vars: Var[] = [];
  private readonly localTypes: ValType[] = [];
  private readonly params: ValType[] = [];
  /** The imported functions the function calls, by name, with their function index (first-use order). */
  private readonly imported = new Map<string, { index: number; use: ImportUse; params: ValType[]; result: Scalar | 'bool' | 'void' }>();
  private readonly frames: Frame[] = [];
  private code = new Code();
  /** The environment's scope: what an inlined function's free names resolve in. */
  private root = new Map<string, Ref>();
  /** Calls of inline bindings: the function's parameters (variables or aliases), body and result. */
  private readonly sites = new Map<A.CallExpression, InlineSite>();
  /** The inline site each return inside an inlined body belongs to. */
  private readonly returns = new Map<A.ReturnStatement, InlineSite>();
  private inlineDepth = 0;
  private finalizer: A.BlockStatement | undefined;
  private retLocal = -1;
  private toInt32Fn = -1;
  /** The module's function index of this function's first import (importInto). */
  private importBase = 0;
  /** A scratch local for ToInt32's inline test. */
  private convertLocal = -1;
  /**
   * Slots in locals: each slot the function uses is loaded at entry, kept in a local, stored
   * (if ever written) before each import call and each exit, and reloaded after each import call,
   * so the engine sees a slot overwritten before anyone could read it (the flag record) as the
   * local it is. Only imports can see or change slots meanwhile (the Binding contract).
   */
  private readonly slotLocals = new Map<number, { local: number; type: Scalar; written: boolean }>();

  constructor(private readonly fn: A.FunctionExpression, private readonly options: TranslateOptions) {}

  /** Resolves names, infers kinds and collects the imports: everything but the code. */
  prepare(): void {
    const env = this.options.env;
    const scope = new Map<string, Ref>(Object.entries(env));
    this.root = new Map(scope);
    const paramVars: { v: Var; kind: Kind; name: string }[] = [];
    for (const p of this.fn.params) {
      if (p.type !== 'Identifier') fail(p, 'a parameter pattern');
      const b = env[p.name];
      if (b === undefined) fail(p, `parameter ${p.name} has no binding`);
      if (b.kind === 'param') {
        const v: Var = { local: this.params.length, kind: b.type === 'i32' ? 'i32' : 'f64' };
        this.params.push(b.type === 'i32' ? I32 : F64);
        scope.set(p.name, v);
        paramVars.push({ v, kind: v.kind!, name: p.name });
      } else {
        scope.set(p.name, b);
      }
    }
    if (this.fn.body.type !== 'BlockStatement') fail(this.fn.body, 'an expression body');
    this.resolveBlock(this.fn.body.body, [scope]);
    this.inferKinds();
    // A parameter's local has its declared type: a value of another kind assigned to it (an
    // int32 parameter given q >>> 0, say) would need a different local.
    for (const { v, kind, name } of paramVars) if (v.kind !== kind) fail(undefined, `parameter ${name} assigned a value of another kind`);
    for (const v of this.vars) this.localTypes[v.local - this.params.length] = v.kind === 'f64' ? F64 : I32;
    // Imports are numbered in first-use order, so a pre-pass collects them.
    this.collectImports(this.fn.body as A.BlockStatement);
  }

  get importCount(): number {
    return this.imported.size;
  }

  imports(): ImportUse[] {
    return [...this.imported.values()].map((i) => i.use);
  }

  /** Adds this function's imports to mod (before any definition), as env.<prefix><key>. */
  importInto(mod: ModuleBuilder, prefix: string): void {
    this.importBase = -1;
    for (const [key, { params, result }] of this.imported) {
      const at = mod.importFunction('env', `${prefix}${key}`, mod.type(params, result === 'void' ? [] : [result === 'f64' ? F64 : I32]));
      if (this.importBase < 0) this.importBase = at;
    }
    if (this.importBase < 0) this.importBase = 0;
  }

  /** Defines the function in mod (its imports added, toInt32Fn: where the ToInt32 helper will be); returns its index. */
  emitInto(mod: ModuleBuilder, toInt32Fn: number): number {
    this.toInt32Fn = toInt32Fn;
    const body = (this.fn.body as A.BlockStatement).body;
    const resultType = this.options.result === 'i32' ? I32 : F64;
    this.retLocal = this.newLocal(resultType);
    this.findSlots();
    this.emitBody(body);
    const entry = new Code();
    for (const [addr, { local, type }] of this.slotLocals) entry.i32Const(addr).mem(type === 'i32' ? OP.i32Load : OP.f64Load, type === 'i32' ? 2 : 3).op(OP.localSet).u32(local);
    entry.bytes.push(...this.code.bytes);
    return mod.define(mod.type(this.params, [resultType]), this.localTypes, entry);
  }

  private newLocal(t: ValType): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  // ---- resolution: every identifier to its variable or binding ---------------------------------

  private lookup(scopes: Map<string, Ref>[], name: string, node: A.Node): Ref {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const r = scopes[i]!.get(name);
      if (r !== undefined) return r;
    }
    fail(node, `unknown name ${name}`);
  }

  private resolveBlock(body: readonly A.Statement[], scopes: Map<string, Ref>[]): void {
    const inner = [...scopes, new Map<string, Ref>()];
    for (const s of body) this.resolveStatement(s, inner);
  }

  private resolveStatement(s: A.Statement | A.ModuleDeclaration, scopes: Map<string, Ref>[]): void {
    switch (s.type) {
      case 'BlockStatement': this.resolveBlock(s.body, scopes); return;
      case 'EmptyStatement': case 'BreakStatement': case 'ContinueStatement':
        if ((s.type === 'BreakStatement' || s.type === 'ContinueStatement') && s.label) fail(s, 'a labelled jump');
        return;
      case 'ExpressionStatement': this.resolveExpr(s.expression, scopes); return;
      case 'ReturnStatement': if (s.argument) this.resolveExpr(s.argument, scopes); return;
      case 'IfStatement':
        this.resolveExpr(s.test, scopes);
        this.resolveStatement(s.consequent, scopes);
        if (s.alternate) this.resolveStatement(s.alternate, scopes);
        return;
      case 'ForStatement':
        if (s.init || s.test || s.update) fail(s, 'a for loop other than for (;;)');
        this.resolveStatement(s.body, scopes);
        return;
      case 'TryStatement':
        if (s.handler || !s.finalizer || this.finalizer) fail(s, 'try other than one try/finally');
        walk(s.finalizer, (n) => { if (n.type === 'ReturnStatement') fail(n, 'a return inside finally'); });
        this.finalizer = s.finalizer;
        this.resolveBlock(s.block.body, scopes);
        this.resolveBlock(s.finalizer.body, scopes);
        return;
      case 'VariableDeclaration': {
        if (s.kind === 'var') fail(s, 'var');
        const top = scopes[scopes.length - 1]!;
        for (const d of s.declarations) {
          if (d.id.type !== 'Identifier') fail(d, 'a destructuring declaration');
          if (d.init) this.resolveExpr(d.init, scopes);
          const folded = d.init && s.kind === 'const' ? this.evalConst(d.init) : undefined;
          const alias: Ref | undefined = folded !== undefined ? { kind: 'const', value: folded } : d.init && s.kind === 'const' ? this.aliasOf(d.init) : undefined;
          if (alias !== undefined) {
            top.set(d.id.name, alias);
            this.refs.set(d, alias);
          } else {
            const v = this.newVar();
            top.set(d.id.name, v);
            this.refs.set(d, v);
          }
        }
        return;
      }
      default: fail(s, 'this statement');
    }
  }

  /**
   * Resolves a call of an inline binding: its parameters become variables (or aliases, for an
   * argument naming a binding such as an object), its body is resolved in the environment's
   * scope, as the function's own module would see it.
   */
  private inlineSite(e: A.CallExpression, b: Extract<Binding, { kind: 'inline' }>): void {
    if (this.inlineDepth >= MAX_INLINE_DEPTH) fail(e, `inlined calls nested deeper than ${MAX_INLINE_DEPTH}`);
    let fn: A.Expression;
    try {
      const program = parse(`(${b.source})`);
      const st = program.body[0];
      fn = st?.type === 'ExpressionStatement' ? st.expression : fail(e, `${b.name}: not a function`);
    } catch (err) {
      if (err instanceof WasmUnsupported) throw err;
      fail(e, `${b.name}: unparsable source`);
    }
    if (fn.type !== 'FunctionExpression' || fn.body.type !== 'BlockStatement') fail(e, `${b.name}: not a plain function`);
    if (fn.params.length !== e.arguments.length) fail(e, `${b.name} called with ${e.arguments.length} arguments`);
    const body = fn.body.body;
    const last = body[body.length - 1];
    const paramScope = new Map<string, Ref>();
    const params: Ref[] = fn.params.map((p, i) => {
      if (p.type !== 'Identifier') fail(p, `${b.name}: a parameter pattern`);
      const a = e.arguments[i]!;
      const r = a.type === 'Identifier' ? this.refs.get(a) : undefined;
      const ref: Ref = r !== undefined && !isVar(r) && r.kind !== 'const' && r.kind !== 'slot' && r.kind !== 'param'
        ? r
        : this.newVar();
      paramScope.set(p.name, ref);
      return ref;
    });
    const site: InlineSite = {
      name: b.name, params, args: e.arguments as A.Expression[], body, result: this.newVar(),
      valued: last?.type === 'ReturnStatement' && last.argument != null, frame: `inline${this.sites.size}` as Frame,
    };
    for (const st of body) {
      walk(st, (n) => {
        if (n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') fail(n, `${b.name}: a nested function`);
        if (n.type === 'ReturnStatement') {
          this.returns.set(n as A.ReturnStatement, site);
          if (!(n as A.ReturnStatement).argument) site.valued = false;
        }
      });
    }
    const scopes = [this.root, paramScope, new Map<string, Ref>()];
    this.inlineDepth++;
    try {
      for (const st of body) this.resolveStatement(st, scopes);
    } finally {
      this.inlineDepth--;
    }
    this.sites.set(e, site);
  }

  private newVar(): Var {
    const v: Var = { local: this.params.length + this.vars.length, kind: undefined };
    this.vars.push(v);
    return v;
  }

  /** An inlined call: arguments into the parameters in order, the body, then the result (if want). */
  private emitInline(site: InlineSite, want: Kind | undefined): void {
    const c = this.code;
    site.params.forEach((p, i) => {
      if (!isVar(p)) return;
      this.emitExpr(site.args[i]!, p.kind!);
      c.op(OP.localSet).u32(p.local);
    });
    c.op(OP.block, VOID); this.frames.push(site.frame);
    for (const st of site.body) this.emitStatement(st);
    c.op(OP.end); this.frames.pop();
    if (want !== undefined) c.op(OP.localGet).u32(site.result.local);
  }

  /** The binding a const's initializer denotes at compile time (an object, array, function...), if any. */
  private aliasOf(e: A.Expression): Ref | undefined {
    const r = this.bindingOf(e);
    if (r !== undefined && !isVar(r) && r.kind !== 'slot' && r.kind !== 'param' && r.kind !== 'const') return r;
    if (e.type === 'MemberExpression' && e.computed) {
      const m = this.bindingOf(e.object as A.Expression);
      if (m !== undefined && !isVar(m) && m.kind === 'memory') {
        if (e.property.type !== 'Identifier' && e.property.type !== 'Literal') fail(e, 'a memory slot expression with effects');
        return { kind: 'view', elem: m.elem };
      }
    }
    if (e.type === 'ConditionalExpression') {
      const a = this.bindingOf(e.consequent), b = this.bindingOf(e.alternate);
      if (a && b && !isVar(a) && !isVar(b) && a.kind === 'array' && b.kind === 'array' && a.elem === b.elem) {
        const d: DynArray = { kind: 'dynarray', local: this.params.length + this.vars.length, elem: a.elem };
        // A local holding the chosen base: an i32 variable whose value is set at the declaration.
        const v: Var = { local: d.local, kind: 'i32' };
        this.vars.push(v);
        return d;
      }
    }
    return undefined;
  }

  /** The compile-time binding an identifier or member chain denotes, if it denotes one. */
  private bindingOf(e: A.Expression | A.Super | A.PrivateIdentifier): Ref | undefined {
    if (e.type === 'Identifier') return this.refs.get(e);
    if (e.type === 'MemberExpression' && !e.computed && e.property.type === 'Identifier') {
      const o = this.bindingOf(e.object);
      if (o !== undefined && !isVar(o) && o.kind === 'object') return o.fields[e.property.name] ?? fail(e, `no field ${e.property.name}`);
    }
    return undefined;
  }

  private resolveExpr(e: A.Expression | A.Super | A.PrivateIdentifier | A.SpreadElement | A.Pattern, scopes: Map<string, Ref>[]): void {
    switch (e.type) {
      case 'Identifier': this.refs.set(e, this.lookup(scopes, e.name, e)); return;
      case 'Literal':
        if (typeof e.value !== 'number' && typeof e.value !== 'boolean') fail(e, 'a non-numeric literal');
        return;
      case 'MemberExpression':
        this.resolveExpr(e.object, scopes);
        if (e.computed) this.resolveExpr(e.property, scopes);
        return;
      case 'UnaryExpression': this.resolveExpr(e.argument, scopes); return;
      case 'UpdateExpression': this.resolveExpr(e.argument, scopes); return;
      case 'BinaryExpression': case 'LogicalExpression': case 'AssignmentExpression':
        this.resolveExpr(e.left, scopes); this.resolveExpr(e.right, scopes); return;
      case 'ConditionalExpression':
        this.resolveExpr(e.test, scopes); this.resolveExpr(e.consequent, scopes); this.resolveExpr(e.alternate, scopes); return;
      case 'SequenceExpression': for (const x of e.expressions) this.resolveExpr(x, scopes); return;
      case 'CallExpression': {
        if (e.callee.type === 'MemberExpression' && e.callee.object.type === 'Identifier' && e.callee.object.name === 'Math') {
          // Math.* is resolved by name at emission.
        } else this.resolveExpr(e.callee, scopes);
        for (const a of e.arguments) this.resolveExpr(a, scopes);
        const b = this.refs.get(e.callee);
        if (b !== undefined && !isVar(b) && b.kind === 'inline') {
          const sites = [...this.sites.keys()], returns = [...this.returns.keys()];
          try {
            this.inlineSite(e, b);
          } catch (err) {
            // A body outside the subset is called instead, where the environment allows it; what
            // resolving it recorded is dropped (its variables stay, unused).
            if (!(err instanceof WasmUnsupported) || b.fallback === undefined) throw err;
            for (const k of [...this.sites.keys()]) if (!sites.includes(k)) this.sites.delete(k);
            for (const k of [...this.returns.keys()]) if (!returns.includes(k)) this.returns.delete(k);
            this.refs.set(e.callee, b.fallback);
          }
        }
        return;
      }
      default: fail(e, 'this expression');
    }
  }

  /** Whether e is a constant number >= 0. */
  private nonNegative(e: A.Node): boolean {
    const v = this.evalConst(e);
    return typeof v === 'number' && v >= 0;
  }

  /** The value of an expression made of literals and constants only (JS semantics), else undefined. */
  private evalConst(e: A.Node): number | boolean | undefined {
    const x = e as A.Expression;
    switch (x.type) {
      case 'Literal': return typeof x.value === 'number' || typeof x.value === 'boolean' ? x.value : undefined;
      case 'Identifier': {
        const r = this.refs.get(x);
        return r !== undefined && !isVar(r) && r.kind === 'const' ? r.value : undefined;
      }
      case 'MemberExpression': {
        const r = x.computed ? undefined : this.bindingOf(x);
        return r !== undefined && !isVar(r) && r.kind === 'const' ? r.value : undefined;
      }
      case 'UnaryExpression': {
        const a = this.evalConst(x.argument);
        if (a === undefined) return undefined;
        switch (x.operator) {
          case '-': return -a; case '+': return +a; case '~': return ~a; case '!': return !a;
          default: return undefined;
        }
      }
      case 'BinaryExpression': {
        const a = this.evalConst(x.left), b = this.evalConst(x.right);
        if (a === undefined || b === undefined) return undefined;
        return CONST_BINARY[x.operator]?.(a as number, b as number);
      }
      case 'LogicalExpression': {
        const a = this.evalConst(x.left);
        if (a === undefined) return undefined;
        const b = this.evalConst(x.right);
        if (x.operator === '&&') return !a ? a : b;
        if (x.operator === '||') return a ? a : b;
        return undefined;
      }
      case 'ConditionalExpression': {
        const t = this.evalConst(x.test);
        return t === undefined ? undefined : this.evalConst(t ? x.consequent : x.alternate);
      }
      default: return undefined;
    }
  }

  // ---- kinds -----------------------------------------------------------------------------------

  private inferKinds(): void {
    const int32 = new Set(this.options.int32Vars ?? []);
    for (const s of (this.fn.body as A.BlockStatement).body) {
      if (s.type !== 'VariableDeclaration') continue;
      for (const d of s.declarations) {
        const r = this.refs.get(d);
        if (d.id.type === 'Identifier' && int32.has(d.id.name) && r !== undefined && isVar(r)) { r.kind = 'i32'; r.int32 = true; }
      }
    }
    for (let round = 0; round < 20; round++) {
      const before = this.vars.map((v) => v.kind).join();
      this.inferBlock(this.fn.body as A.BlockStatement);
      for (const site of this.sites.values()) {
        site.params.forEach((p, i) => { if (isVar(p)) this.assignKind(p, this.kindOf(site.args[i]!)); });
        for (const st of site.body) this.inferBlock(st);
      }
      for (const [ret, site] of this.returns) {
        if (ret.argument) this.assignKind(site.result, this.kindOf(ret.argument));
      }
      if (this.vars.map((v) => v.kind).join() === before) {
        for (const v of this.vars) v.kind ??= 'i32'; // never assigned: a declared, unused name
        return;
      }
    }
    fail(this.fn, 'variable kinds that do not settle');
  }

  private assignKind(v: Var, k: Kind): void {
    if (v.int32) return;
    v.kind = joinKind(v.kind, k);
  }

  private inferBlock(node: A.Node): void {
    walk(node, (n) => {
      if (n.type === 'VariableDeclarator') {
        const d = n as A.VariableDeclarator;
        const r = this.refs.get(d);
        if (r !== undefined && isVar(r) && d.init) this.assignKind(r, this.kindOf(d.init));
      } else if (n.type === 'AssignmentExpression') {
        const a = n as A.AssignmentExpression;
        const r = a.left.type === 'Identifier' ? this.refs.get(a.left) : undefined;
        if (r !== undefined && isVar(r)) this.assignKind(r, this.kindOf(this.assignedValue(a)));
      } else if (n.type === 'UpdateExpression') {
        const u = n as A.UpdateExpression;
        const r = u.argument.type === 'Identifier' ? this.refs.get(u.argument) : undefined;
        if (r !== undefined && isVar(r)) this.assignKind(r, 'f64');
      }
    });
  }

  private kindOf(e: A.Expression | A.Super | A.PrivateIdentifier | A.SpreadElement | A.Pattern): Kind {
    const v = this.evalConst(e);
    if (v !== undefined) return typeof v === 'boolean' ? 'bool' : literalKind(v);
    switch (e.type) {
      case 'Literal':
        if (typeof e.value === 'boolean') return 'bool';
        return literalKind(e.value as number);
      case 'Identifier': {
        const r = this.refs.get(e)!;
        if (isVar(r)) return r.kind ?? 'i32';
        if (r.kind === 'const') return typeof r.value === 'boolean' ? 'bool' : literalKind(r.value);
        if (r.kind === 'slot' || r.kind === 'param') return r.type === 'i32' ? 'i32' : 'f64';
        return fail(e, 'a binding used as a number');
      }
      case 'MemberExpression': {
        const b = this.bindingOf(e);
        if (b !== undefined && !isVar(b) && b.kind === 'slot') return b.type === 'i32' ? 'i32' : 'f64';
        if (b !== undefined && !isVar(b) && b.kind === 'const') return typeof b.value === 'boolean' ? 'bool' : literalKind(b.value);
        if (b !== undefined && !isVar(b) && b.kind === 'getter') return b.result === 'i32' ? 'i32' : 'f64';
        return ELEM_KIND[this.elementAccess(e).elem];
      }
      case 'UnaryExpression':
        if (e.operator === '!') return 'bool';
        if (e.operator === '~') return 'i32';
        if (e.operator === '-' || e.operator === '+') return 'f64';
        return fail(e, `unary ${e.operator}`);
      case 'BinaryExpression':
        if (e.operator in COMPARE) return 'bool';
        if (e.operator === '>>>') return 'u32';
        if (e.operator in INT_BINARY) return 'i32';
        if (e.operator in F64_ARITH) return 'f64';
        return fail(e, `operator ${e.operator}`);
      case 'LogicalExpression': return 'bool';
      case 'ConditionalExpression': {
        const test = this.evalConst(e.test);
        if (test !== undefined) return this.kindOf(test ? e.consequent : e.alternate);
        const a = this.kindOf(e.consequent), b = this.kindOf(e.alternate);
        if (a === b) return a;
        if (a === 'bool' || b === 'bool') fail(e, 'a conditional mixing booleans and numbers');
        return 'f64';
      }
      case 'AssignmentExpression': {
        const r = e.left.type === 'Identifier' ? this.refs.get(e.left) : undefined;
        if (r !== undefined && isVar(r)) return r.kind ?? this.kindOf(this.assignedValue(e));
        return this.kindOf(this.assignedValue(e));
      }
      case 'SequenceExpression': return this.kindOf(e.expressions[e.expressions.length - 1]!);
      case 'UpdateExpression': {
        const r = e.argument.type === 'Identifier' ? this.refs.get(e.argument) : undefined;
        return r !== undefined && isVar(r) && r.int32 ? 'i32' : 'f64';
      }
      case 'CallExpression': {
        const m = mathName(e);
        if (m === 'imul') return 'i32';
        if (m !== undefined) return 'f64';
        const site = this.sites.get(e);
        if (site !== undefined) return site.valued ? site.result.kind ?? 'i32' : fail(e, `the value of ${site.name}, which may return nothing`);
        const b = this.refs.get(e.callee);
        if (b === undefined || isVar(b) || b.kind !== 'import') return fail(e, 'a call of something other than an import or Math');
        if (b.result === 'void') return fail(e, 'the value of a call that returns nothing');
        return b.result;
      }
      default: return fail(e, 'this expression');
    }
  }

  /** For arr[i] (an array binding) or mem[x][i] (a memory binding): where the element is. */
  private elementAccess(e: A.MemberExpression): { elem: Elem; base: number | DynArray; index: A.Expression } {
    if (!e.computed) fail(e, 'a field of something other than an object binding');
    const index = e.property as A.Expression;
    const o = e.object;
    const direct = this.bindingOf(o as A.Expression);
    if (direct !== undefined && !isVar(direct)) {
      if (direct.kind === 'array') return { elem: direct.elem, base: direct.base, index };
      if (direct.kind === 'dynarray') return { elem: direct.elem, base: direct, index };
      if (direct.kind === 'view') return { elem: direct.elem, base: 0, index };
    }
    if (o.type === 'MemberExpression' && o.computed) {
      const m = this.bindingOf(o.object as A.Expression);
      if (m !== undefined && !isVar(m) && m.kind === 'memory') {
        if (o.property.type !== 'Identifier' && o.property.type !== 'Literal') fail(o, 'a memory slot expression with effects');
        return { elem: m.elem, base: 0, index };
      }
    }
    return fail(e, 'an element of something other than an array or memory binding');
  }

  // ---- emission --------------------------------------------------------------------------------

  private collectImports(node: A.Node): void {
    for (const site of this.sites.values()) {
      for (const st of site.body) this.collectImportsIn(st);
    }
    this.collectImportsIn(node);
  }

  private collectImportsIn(node: A.Node): void {
    walk(node, (n) => {
      if (n.type === 'CallExpression') {
        const b = this.refs.get((n as A.CallExpression).callee);
        if (b !== undefined && !isVar(b) && b.kind === 'import') this.callSignature(n as A.CallExpression, b);
      } else if (n.type === 'MemberExpression') {
        const b = this.bindingOf(n as A.MemberExpression);
        if (b !== undefined && !isVar(b) && b.kind === 'getter' && !this.imported.has(b.name)) {
          this.imported.set(b.name, { index: this.imported.size, use: { key: b.name, name: b.name, objects: [] }, params: [], result: b.result });
        }
      }
    });
  }

  /** The import a call goes to (registered on first sight), and each argument's wasm type or 'omit'. */
  private callSignature(e: A.CallExpression, b: Extract<Binding, { kind: 'import' }>): { index: number; args: (Scalar | 'omit')[] } {
    if (b.args !== undefined && e.arguments.length !== b.args.length) fail(e, `${b.name} called with ${e.arguments.length} arguments`);
    const objects: (string | undefined)[] = [];
    const args = e.arguments.map((a, i): Scalar | 'omit' => {
      const r = a.type === 'Identifier' ? this.refs.get(a) : undefined;
      const named = r !== undefined && !isVar(r) && r.kind !== 'const' && r.kind !== 'slot' && r.kind !== 'param';
      const t = b.args?.[i] ?? (named ? 'omit' : 'f64');
      if (t === 'omit') {
        if (!named) fail(a, 'an omitted argument that is not a binding');
        objects.push((a as A.Identifier).name);
      } else {
        if (b.args === undefined && this.kindOf(a) === 'bool') fail(a, 'a boolean argument of an import');
        objects.push(undefined);
      }
      return t;
    });
    const key = b.args !== undefined ? b.name : `${b.name}(${objects.map((o) => o ?? '#').join(',')})`;
    let entry = this.imported.get(key);
    if (entry === undefined) {
      const params = args.filter((a) => a !== 'omit').map((a) => (a === 'i32' ? I32 : F64));
      entry = { index: this.imported.size, use: { key, name: b.name, objects }, params, result: b.result };
      this.imported.set(key, entry);
    }
    return { index: this.importBase + entry.index, args };
  }

  private emitBody(body: readonly A.Statement[]): void {
    for (const s of body) this.emitStatement(s);
    // Falling off the end returns undefined in JS: not a number this function can return.
    this.code.op(OP.unreachable);
  }

  private depth(target: Frame): number {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i] === target) return this.frames.length - 1 - i;
    return fail(undefined, `a ${target} outside its construct`);
  }

  private emitStatement(s: A.Statement | A.ModuleDeclaration): void {
    const c = this.code;
    switch (s.type) {
      case 'BlockStatement': for (const x of s.body) this.emitStatement(x); return;
      case 'EmptyStatement': return;
      case 'ExpressionStatement': this.emitExpr(s.expression, undefined); return;
      case 'VariableDeclaration':
        for (const d of s.declarations) {
          const r = this.refs.get(d);
          if (r === undefined) continue;
          if (!isVar(r) && r.kind === 'dynarray') {
            const e = d.init as A.ConditionalExpression;
            this.emitCondition(e.test);
            const a = this.bindingOf(e.consequent) as Extract<Binding, { kind: 'array' }>;
            const b = this.bindingOf(e.alternate) as Extract<Binding, { kind: 'array' }>;
            c.op(OP.if, I32).i32Const(a.base).op(OP.else).i32Const(b.base).op(OP.end, OP.localSet).u32(r.local);
          } else if (isVar(r) && d.init) {
            this.emitExpr(d.init, r.kind!);
            c.op(OP.localSet).u32(r.local);
          }
        }
        return;
      case 'IfStatement': {
        const test = this.evalConst(s.test);
        if (test !== undefined) {
          if (test) this.emitStatement(s.consequent);
          else if (s.alternate) this.emitStatement(s.alternate);
          return;
        }
        this.emitCondition(s.test);
        c.op(OP.if, VOID); this.frames.push('other');
        this.emitStatement(s.consequent);
        if (s.alternate) { c.op(OP.else); this.emitStatement(s.alternate); }
        c.op(OP.end); this.frames.pop();
        return;
      }
      case 'ForStatement':
        c.op(OP.block, VOID); this.frames.push('break');
        c.op(OP.loop, VOID); this.frames.push('continue');
        this.emitStatement(s.body);
        c.op(OP.br).u32(0);
        c.op(OP.end); this.frames.pop();
        c.op(OP.end); this.frames.pop();
        return;
      case 'BreakStatement': c.op(OP.br).u32(this.depth('break')); return;
      case 'ContinueStatement': c.op(OP.br).u32(this.depth('continue')); return;
      case 'ReturnStatement': {
        const site = this.returns.get(s);
        if (site !== undefined) {
          if (s.argument) { this.emitExpr(s.argument, site.result.kind!); c.op(OP.localSet).u32(site.result.local); }
          c.op(OP.br).u32(this.depth(site.frame));
          return;
        }
        if (!s.argument) fail(s, 'a return without a value');
        this.emitExpr(s.argument, this.options.result);
        if (this.frames.includes('exit')) c.op(OP.localSet).u32(this.retLocal).op(OP.br).u32(this.depth('exit'));
        else { this.flushSlots(); c.op(OP.return); }
        return;
      }
      case 'TryStatement': {
        // block $exit { try { body } catch_all { finally; rethrow } } finally; return $ret.
        // A return inside sets $ret and leaves through $exit.
        c.op(OP.block, VOID); this.frames.push('exit');
        c.op(OP.try, VOID); this.frames.push('other');
        for (const x of s.block.body) this.emitStatement(x);
        c.op(OP.unreachable); // fell off the try: JS would go on past it, which the subset does not use
        c.op(OP.catchAll);
        // Only an import throws: memory holds the slots as the import left them (the locals
        // are from before the call).
        this.reloadSlots();
        for (const x of s.finalizer!.body) this.emitStatement(x);
        this.flushSlots();
        c.op(OP.rethrow).u32(0);
        c.op(OP.end); this.frames.pop();
        c.op(OP.end); this.frames.pop();
        for (const x of s.finalizer!.body) this.emitStatement(x);
        this.flushSlots();
        c.op(OP.localGet).u32(this.retLocal).op(OP.return);
        return;
      }
      default: fail(s, 'this statement');
    }
  }

  /** Emits a JS truthiness test as an i32 0/1. */
  private emitCondition(e: A.Expression): void {
    const k = this.kindOf(e);
    this.emitExpr(e, k === 'f64' ? 'f64' : 'i32-raw');
    if (k === 'f64') this.code.op(OP.f64Abs).f64Const(0).op(OP.f64Gt); // NaN and 0 are false
    else if (k !== 'bool') this.code.i32Const(0).op(OP.i32Ne);
  }

  /**
   * Emits e leaving a value of the wanted representation: 'i32' (ToInt32 of the JS value),
   * 'f64' (the JS value), 'i32-raw' (the value's own 32-bit form: i32/u32/bool bits), or nothing
   * (undefined: for effect only).
   */
  private emitExpr(e: A.Expression | A.Super | A.PrivateIdentifier | A.SpreadElement | A.Pattern, want: 'i32' | 'f64' | 'i32-raw' | Kind | undefined): void {
    const c = this.code;
    const w = want === 'u32' || want === 'bool' ? 'i32-raw' : want;
    if (w === undefined) {
      switch (e.type) {
        case 'AssignmentExpression': this.emitAssign(e, false); return;
        case 'UpdateExpression': this.emitUpdate(e, false); return;
        case 'SequenceExpression': for (const x of e.expressions) this.emitExpr(x, undefined); return;
        case 'CallExpression': {
          const site = this.sites.get(e);
          if (site !== undefined) { this.emitInline(site, undefined); return; }
          const b = this.refs.get(e.callee);
          if (b && !isVar(b) && b.kind === 'import' && b.result === 'void') { this.emitCall(e, b); return; }
          break;
        }
        case 'Identifier': case 'Literal': return;
        default: break;
      }
      const k = this.kindOf(e);
      this.emitExpr(e, k === 'f64' ? 'f64' : 'i32-raw');
      c.op(OP.drop);
      return;
    }
    if (w === 'i32' && e.type === 'BinaryExpression' && (e.operator === '+' || e.operator === '-') && this.exactInt(e, 0)) {
      // ToInt32 of an exact integer sum is the sum modulo 2^32.
      this.emitExpr(e.left, 'i32'); this.emitExpr(e.right, 'i32');
      c.op(e.operator === '+' ? OP.i32Add : OP.i32Sub);
      return;
    }
    const k = this.kindOf(e);
    this.emitValue(e, k);
    this.convert(k, w);
  }

  /** Whether e is a sum/difference of at most 2^20 int32/uint32/boolean terms (exact in a double). */
  private exactInt(e: A.Expression | A.Super | A.PrivateIdentifier | A.SpreadElement | A.Pattern, depth: number): boolean {
    if (depth > 20) return false;
    if (e.type === 'BinaryExpression' && (e.operator === '+' || e.operator === '-')) {
      return this.exactInt(e.left, depth + 1) && this.exactInt(e.right, depth + 1);
    }
    const k = this.kindOf(e);
    return k === 'i32' || k === 'u32';
  }

  /** Converts the value on the stack from kind k to representation w. */
  private convert(k: Kind, w: 'i32' | 'f64' | 'i32-raw'): void {
    const c = this.code;
    if (w === 'i32-raw') {
      if (k === 'f64') fail(undefined, 'an f64 where a 32-bit value is needed');
      return;
    }
    if (w === 'f64') {
      if (k === 'i32' || k === 'bool') c.op(OP.f64ConvertI32S);
      else if (k === 'u32') c.op(OP.f64ConvertI32U);
      return;
    }
    // ToInt32: |x| < 2^63 inline, the rest in toInt32Body's function.
    if (k === 'f64') {
      if (this.convertLocal < 0) this.convertLocal = this.newLocal(F64);
      const t = this.convertLocal;
      c.op(OP.localTee).u32(t).op(OP.f64Abs).f64Const(TWO63).op(OP.f64Lt, OP.if, I32);
      c.op(OP.localGet).u32(t).fc(OP_FC.i64TruncSatF64S).op(OP.i32WrapI64, OP.else);
      c.op(OP.localGet).u32(t).op(OP.call).u32(this.toInt32Fn).op(OP.end);
    }
  }

  /** Emits e's value in its own kind's representation. */
  private emitValue(e: A.Expression | A.Super | A.PrivateIdentifier | A.SpreadElement | A.Pattern, k: Kind): void {
    const c = this.code;
    const v = this.evalConst(e);
    if (v !== undefined) {
      if (typeof v === 'boolean') c.i32Const(v ? 1 : 0);
      else if (k === 'f64') c.f64Const(v);
      else c.i32Const(v);
      return;
    }
    switch (e.type) {
      case 'Literal':
        if (typeof e.value === 'boolean') c.i32Const(e.value ? 1 : 0);
        else if (k === 'f64') c.f64Const(e.value as number);
        else c.i32Const(e.value as number);
        return;
      case 'Identifier': {
        const r = this.refs.get(e)!;
        if (isVar(r)) { c.op(OP.localGet).u32(r.local); return; }
        this.emitBindingValue(r, e, k);
        return;
      }
      case 'MemberExpression': {
        const b = this.bindingOf(e);
        if (b !== undefined && !isVar(b)) { this.emitBindingValue(b, e, k); return; }
        const at = this.elementAccess(e);
        this.emitAddress(at);
        const [op, align] = LOAD[at.elem];
        c.mem(op, align);
        return;
      }
      case 'UnaryExpression':
        if (e.operator === '!') { this.emitCondition(e.argument as A.Expression); c.op(OP.i32Eqz); return; }
        if (e.operator === '~') { this.emitExpr(e.argument, 'i32'); c.i32Const(-1).op(OP.i32Xor); return; }
        if (e.operator === '-') { this.emitExpr(e.argument, 'f64'); c.op(OP.f64Neg); return; }
        if (e.operator === '+') { this.emitExpr(e.argument, 'f64'); return; }
        return fail(e, `unary ${e.operator}`);
      case 'BinaryExpression': {
        const op = e.operator;
        if (op in INT_BINARY) {
          this.emitExpr(e.left, 'i32'); this.emitExpr(e.right, 'i32');
          c.op(INT_BINARY[op]!);
          return;
        }
        if (op in COMPARE) {
          const a = this.kindOf(e.left), b = this.kindOf(e.right);
          if ((a === 'bool') !== (b === 'bool')) fail(e, 'a comparison of a boolean with a number');
          const ops = COMPARE[op]!;
          // A uint32 against an int32 constant >= 0 compares as two uint32s (the constant is the
          // same number either way), where mixed kinds would go through doubles.
          const unsigned = (a === 'u32' && b === 'i32' && this.nonNegative(e.right)) || (b === 'u32' && a === 'i32' && this.nonNegative(e.left));
          if ((a === b && a !== 'f64') || unsigned) {
            this.emitExpr(e.left, 'i32-raw'); this.emitExpr(e.right, 'i32-raw');
            c.op(a === 'u32' || unsigned ? ops.u : ops.s);
          } else {
            this.emitExpr(e.left, 'f64'); this.emitExpr(e.right, 'f64');
            c.op(ops.f);
          }
          return;
        }
        if (op in F64_ARITH) {
          this.emitExpr(e.left, 'f64'); this.emitExpr(e.right, 'f64');
          c.op(F64_ARITH[op]!);
          return;
        }
        return fail(e, `operator ${op}`);
      }
      case 'LogicalExpression':
        if (this.kindOf(e.left) !== 'bool' || this.kindOf(e.right) !== 'bool') fail(e, `${e.operator} on non-booleans`);
        this.emitCondition(e.left);
        c.op(OP.if, I32); this.frames.push('other');
        if (e.operator === '&&') { this.emitCondition(e.right); c.op(OP.else).i32Const(0); }
        else if (e.operator === '||') { c.i32Const(1).op(OP.else); this.emitCondition(e.right); }
        else fail(e, `operator ${e.operator}`);
        c.op(OP.end); this.frames.pop();
        return;
      case 'ConditionalExpression': {
        const test = this.evalConst(e.test);
        if (test !== undefined) { this.emitValue(test ? e.consequent : e.alternate, k); return; }
        const rep = k === 'f64' ? 'f64' : 'i32-raw';
        this.emitCondition(e.test);
        c.op(OP.if, k === 'f64' ? F64 : I32); this.frames.push('other');
        this.emitExpr(e.consequent, rep === 'f64' ? 'f64' : this.kindOf(e.consequent));
        c.op(OP.else);
        this.emitExpr(e.alternate, rep === 'f64' ? 'f64' : this.kindOf(e.alternate));
        c.op(OP.end); this.frames.pop();
        return;
      }
      case 'AssignmentExpression': this.emitAssign(e, true); return;
      case 'UpdateExpression': this.emitUpdate(e, true); return;
      case 'SequenceExpression': {
        const xs = e.expressions;
        for (let i = 0; i < xs.length - 1; i++) this.emitExpr(xs[i]!, undefined);
        this.emitValue(xs[xs.length - 1]!, k);
        return;
      }
      case 'CallExpression': {
        const m = mathName(e);
        if (m !== undefined && e.arguments.length !== (m === 'imul' ? 2 : 1)) fail(e, `Math.${m} with ${e.arguments.length} arguments`);
        if (m === 'imul') { this.emitExpr(e.arguments[0]!, 'i32'); this.emitExpr(e.arguments[1]!, 'i32'); c.op(OP.i32Mul); return; }
        if (m === 'round') {
          // JS rounds halves up, and keeps the sign of a zero result: copysign(floor(x) + (x - floor(x) >= 0.5), x).
          const t = this.newLocal(F64);
          this.emitExpr(e.arguments[0]!, 'f64');
          c.op(OP.localTee).u32(t).op(OP.f64Floor, OP.localGet).u32(t).op(OP.localGet).u32(t).op(OP.f64Floor, OP.f64Sub);
          c.f64Const(0.5).op(OP.f64Ge, OP.f64ConvertI32U, OP.f64Add, OP.localGet).u32(t).op(OP.f64Copysign);
          return;
        }
        if (m === 'floor' || m === 'trunc' || m === 'abs') {
          this.emitExpr(e.arguments[0]!, 'f64');
          c.op(m === 'floor' ? OP.f64Floor : m === 'trunc' ? OP.f64Trunc : OP.f64Abs);
          return;
        }
        if (m !== undefined) fail(e, `Math.${m}`);
        const site = this.sites.get(e);
        if (site !== undefined) { this.emitInline(site, k); return; }
        this.emitCall(e, this.refs.get(e.callee) as Extract<Binding, { kind: 'import' }>);
        return;
      }
      default: fail(e, 'this expression');
    }
  }

  private emitBindingValue(r: Ref, node: A.Node, k: Kind): void {
    const c = this.code;
    if (isVar(r)) { c.op(OP.localGet).u32(r.local); return; }
    switch (r.kind) {
      case 'const':
        if (typeof r.value === 'boolean') c.i32Const(r.value ? 1 : 0);
        else if (k === 'f64') c.f64Const(r.value);
        else c.i32Const(r.value);
        return;
      case 'slot':
        c.op(OP.localGet).u32(this.slotLocals.get(r.addr)!.local);
        return;
      case 'getter':
        this.flushSlots();
        c.op(OP.call).u32(this.importBase + this.imported.get(r.name)!.index);
        this.reloadSlots();
        return;
      default: fail(node, `${r.kind} used as a number`);
    }
  }

  private emitAddress(at: { elem: Elem; base: number | DynArray; index: A.Expression }): void {
    const c = this.code, size = ELEM_SIZE[at.elem];
    const shift = Math.log2(size);
    if (at.index.type === 'Literal' && typeof at.index.value === 'number' && typeof at.base === 'number') {
      c.i32Const(at.base + at.index.value * size);
      return;
    }
    this.emitExpr(at.index, 'i32');
    if (shift !== 0) c.i32Const(shift).op(OP.i32Shl);
    if (typeof at.base === 'number') { if (at.base !== 0) c.i32Const(at.base).op(OP.i32Add); }
    else c.op(OP.localGet).u32(at.base.local).op(OP.i32Add);
  }

  private emitCall(e: A.CallExpression, b: Extract<Binding, { kind: 'import' }>): void {
    const { index, args } = this.callSignature(e, b);
    e.arguments.forEach((a, i) => { if (args[i] !== 'omit') this.emitExpr(a, args[i]!); });
    this.flushSlots();
    this.code.op(OP.call).u32(index);
    this.reloadSlots();
  }

  /**
   * An assignment; with value, leaves the assignment's JS value (the right-hand side's, which a
   * narrowing store does not change) in the kind kindOf gives it.
   */
  private emitAssign(e: A.AssignmentExpression, value: boolean): void {
    const c = this.code;
    const target = e.left;
    const rhs = this.assignedValue(e);
    if (target.type === 'Identifier') {
      const r = this.refs.get(target)!;
      if (isVar(r)) {
        this.emitExpr(rhs, r.kind!);
        c.op(value ? OP.localTee : OP.localSet).u32(r.local);
        return;
      }
      if (r.kind === 'slot') { this.storeSlot(r, rhs, value); return; }
      fail(target, 'an assignment to a binding');
    }
    if (target.type !== 'MemberExpression') fail(target, 'an assignment target');
    const b = this.bindingOf(target);
    if (b !== undefined && !isVar(b)) {
      if (b.kind !== 'slot') fail(target, 'an assignment to a binding');
      this.storeSlot(b, rhs, value);
      return;
    }
    const at = this.elementAccess(target);
    this.emitAddress(at);
    this.store(c, at.elem, rhs, value);
  }

  /** x = v, or for x op= v: x op v. */
  private assignedValue(e: A.AssignmentExpression): A.Expression {
    if (e.operator === '=') return e.right;
    return { type: 'BinaryExpression', operator: e.operator.slice(0, -1), left: e.left, right: e.right, start: e.start, end: e.end } as unknown as A.Expression;
  }

  /**
   * With the address on the stack: evaluates rhs and stores it as elem (typed arrays convert as
   * JS does) or into a field slot ('slot-i32' holds int32 values only: a JS field keeps any
   * number, so a value the slot could not hold is refused).
   */
  private store(c: Code, elem: Elem, rhs: A.Expression, value: boolean): void {
    const k = this.kindOf(rhs);
    this.emitExpr(rhs, k === 'f64' ? 'f64' : 'i32-raw');
    let keep = -1;
    if (value) c.op(OP.localTee).u32(keep = this.newLocal(k === 'f64' ? F64 : I32));
    this.convert(k, elem === 'f64' ? 'f64' : 'i32');
    const [op, align] = STORE[elem];
    c.mem(op, align);
    if (value) c.op(OP.localGet).u32(keep);
  }

  /**
   * A field slot takes rhs (into its local): an i32 slot holds int32 values only (a JS field keeps
   * any number, so a value the slot could not hold is refused), an f64 slot any number.
   */
  private storeSlot(b: Extract<Binding, { kind: 'slot' }>, rhs: A.Expression, value: boolean): void {
    const k = this.kindOf(rhs);
    if (b.type === 'i32' && k !== 'i32') fail(rhs, 'a value other than an int32 into an int32 field');
    if (b.type === 'f64' && k === 'bool') fail(rhs, 'a boolean into a number field');
    const local = this.slotLocals.get(b.addr)!.local;
    if (b.type === 'i32') {
      this.emitExpr(rhs, 'i32');
      this.code.op(value ? OP.localTee : OP.localSet).u32(local);
      return;
    }
    // An f64 slot: the assignment's value is the right-hand side's, in its own kind.
    this.emitExpr(rhs, k === 'f64' ? 'f64' : 'i32-raw');
    let keep = -1;
    if (value) this.code.op(OP.localTee).u32(keep = this.newLocal(k === 'f64' ? F64 : I32));
    this.convert(k, 'f64');
    this.code.op(OP.localSet).u32(local);
    if (value) this.code.op(OP.localGet).u32(keep);
  }

  /** Every slot the function reads or writes (its own code and inlined bodies), with a local each. */
  private findSlots(): void {
    const visit = (n: A.Node): void => walk(n, (x) => {
      let slot: Ref | undefined;
      if (x.type === 'MemberExpression') slot = this.bindingOf(x as A.MemberExpression);
      else if (x.type === 'Identifier') slot = this.refs.get(x);
      if (slot === undefined || isVar(slot) || slot.kind !== 'slot') return;
      if (!this.slotLocals.has(slot.addr)) this.slotLocals.set(slot.addr, { local: this.newLocal(slot.type === 'i32' ? I32 : F64), type: slot.type, written: false });
    });
    const written = (n: A.Node): void => walk(n, (x) => {
      const target = x.type === 'AssignmentExpression' ? (x as A.AssignmentExpression).left : undefined;
      if (target === undefined) return;
      const slot = target.type === 'MemberExpression' ? this.bindingOf(target) : target.type === 'Identifier' ? this.refs.get(target) : undefined;
      if (slot !== undefined && !isVar(slot) && slot.kind === 'slot') this.slotLocals.get(slot.addr)!.written = true;
    });
    const nodes: A.Node[] = [this.fn.body];
    for (const site of this.sites.values()) nodes.push(...site.body);
    for (const n of nodes) visit(n);
    for (const n of nodes) written(n);
  }

  /** Written slots from their locals into memory (before JS may look). */
  private flushSlots(): void {
    for (const [addr, { local, type, written }] of this.slotLocals) {
      if (written) this.code.i32Const(addr).op(OP.localGet).u32(local).mem(type === 'i32' ? OP.i32Store : OP.f64Store, type === 'i32' ? 2 : 3);
    }
  }

  /** Every slot back into its local (after JS may have changed it). */
  private reloadSlots(): void {
    for (const [addr, { local, type }] of this.slotLocals) this.code.i32Const(addr).mem(type === 'i32' ? OP.i32Load : OP.f64Load, type === 'i32' ? 2 : 3).op(OP.localSet).u32(local);
  }

  private emitUpdate(e: A.UpdateExpression, value: boolean): void {
    const c = this.code;
    if (e.argument.type !== 'Identifier') fail(e, 'an update of something other than a variable');
    const r = this.refs.get(e.argument)!;
    const delta = e.operator === '++' ? 1 : -1;
    if (isVar(r) && r.int32) {
      if (value && !e.prefix) c.op(OP.localGet).u32(r.local);
      c.op(OP.localGet).u32(r.local).i32Const(delta).op(OP.i32Add);
      c.op(value && e.prefix ? OP.localTee : OP.localSet).u32(r.local);
      return;
    }
    if (!isVar(r) || r.kind !== 'f64') fail(e, 'an update of a non-f64 variable');
    if (value && !e.prefix) c.op(OP.localGet).u32(r.local);
    c.op(OP.localGet).u32(r.local).f64Const(delta).op(OP.f64Add);
    if (value && e.prefix) c.op(OP.localTee).u32(r.local);
    else c.op(OP.localSet).u32(r.local);
  }
}

function literalKind(v: number): Kind {
  if (Number.isInteger(v) && !Object.is(v, -0)) {
    if (v >= -0x80000000 && v <= 0x7fffffff) return 'i32';
    if (v >= 0 && v <= 0xffffffff) return 'u32';
  }
  return 'f64';
}

function mathName(e: A.CallExpression): string | undefined {
  const c = e.callee;
  if (c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier' && c.object.name === 'Math' && c.property.type === 'Identifier') return c.property.name;
  return undefined;
}

/**
 * ToInt32 of a double as a wasm function (f64) -> i32: the double modulo 2^64 is exact in
 * doubles, and truncating it as an unsigned 64-bit integer then wrapping gives ToInt32 for
 * every input (NaN and infinities: 0).
 */
function toInt32Body(): Code {
  const c = new Code();
  // |x| < 2^63: truncate directly (the common case).
  c.op(OP.localGet).u32(0).op(OP.f64Abs).f64Const(TWO63).op(OP.f64Lt);
  c.op(OP.if, I32);
  c.op(OP.localGet).u32(0).fc(OP_FC.i64TruncSatF64S).op(OP.i32WrapI64);
  c.op(OP.else);
  // x - trunc(x / 2^64) * 2^64, then + 2^64 if negative: in [0, 2^64).
  c.op(OP.localGet).u32(0).op(OP.localGet).u32(0).f64Const(TWO64).op(OP.f64Div, OP.f64Trunc).f64Const(TWO64).op(OP.f64Mul, OP.f64Sub);
  c.op(OP.localTee).u32(0).f64Const(0).op(OP.f64Lt);
  c.op(OP.if, VOID).op(OP.localGet).u32(0).f64Const(TWO64).op(OP.f64Add, OP.localSet).u32(0).op(OP.end);
  c.op(OP.localGet).u32(0).fc(OP_FC.i64TruncSatF64U).op(OP.i32WrapI64);
  c.op(OP.end);
  return c;
}

/** Calls visit on every node under node (depth first). */
/** Visits node and every node under it, in preorder. */
function walk(node: A.Node, visit: (n: A.Node) => void): void {
  const list = nodesOf(node);
  for (let i = 0; i < list.length; i++) visit(list[i]!);
}

/**
 * Each walked subtree's nodes in preorder, listed once: kinds settle over several passes of
 * the same trees, and finding a node's children through its keys cost more than the visits
 * (a third of a block's translation).
 */
const preorder = new WeakMap<A.Node, A.Node[]>();

function nodesOf(node: A.Node): A.Node[] {
  let list = preorder.get(node);
  if (list === undefined) {
    list = [];
    collectNodes(node, list);
    preorder.set(node, list);
  }
  return list;
}

function collectNodes(node: A.Node, out: A.Node[]): void {
  out.push(node);
  for (const key in node) {
    const v = (node as unknown as Record<string, unknown>)[key];
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) { for (const x of v) if (x && typeof x === 'object' && 'type' in x) collectNodes(x as A.Node, out); }
    else if ('type' in v) collectNodes(v as A.Node, out);
  }
}
