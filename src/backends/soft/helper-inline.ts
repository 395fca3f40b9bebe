/**
 * Puts an executor helper's body (add64, shift64, shiftFlags... in src/x86/exec) into a compiled
 * block's text in place of a call to it. The semantics stay written once, in the helper; the
 * block gets its statements because V8 stops inlining calls into a function once a cumulative
 * budget is spent, which a long block (dozens of helper calls) exhausts: the rest then cost a
 * call each, and the flag record each helper stores cannot be seen as overwritten by the next.
 *
 * A helper qualifies when its compiled source (Function.prototype.toString) is
 * `function name(params) { statements; return expression; }` with no other return (or none at
 * all), and every name it uses is a parameter, one of its own declarations, a global the
 * generated code may use, or in the scope its module exports for inlining (ALU_SCOPE...): the
 * factory (block-compile.ts) binds those names. Anything else keeps the call.
 */

export interface InlinableHelper {
  readonly name: string;
  readonly params: readonly string[];
  /** The statements before the return. */
  readonly body: string;
  /** The returned expression (undefined: the helper returns nothing). */
  readonly result: string | undefined;
  /** Names the body declares, and parameters it assigns to. */
  readonly declared: ReadonlySet<string>;
  readonly assigned: ReadonlySet<string>;
}

/** Names generated block code defines itself: a helper scope must not bind them. */
export const BLOCK_LOCALS: ReadonlySet<string> = new Set([
  'cpu', 'r', 'rf', 'live', 's0', 's1', 'k', 'g', 'budget', 'fns', 'insns', 'helpers',
  'tlb', 'tlbR', 'tlbW', 'tlbAt', 'ram32', 'ram16', 'ram8', 'ea', 'lin',
]);

const KEYWORDS = new Set([
  'const', 'let', 'return', 'if', 'else', 'switch', 'case', 'default', 'break', 'for', 'while', 'do',
  'continue', 'true', 'false', 'null', 'undefined', 'typeof', 'void', 'new', 'of', 'in',
]);
const GLOBALS = new Set(['Math', 'Number']);

/**
 * The helper's parts, or undefined when it does not have the inlinable shape or uses a name
 * outside its parameters, its own declarations, GLOBALS and scope.
 */
export function parseHelper(fn: (...args: never[]) => unknown, scope: ReadonlySet<string>): InlinableHelper | undefined {
  const m = /^function\s+([\w$]+)\s*\(([^)]*)\)\s*\{([\s\S]*)\}$/.exec(fn.toString().trim());
  if (!m) return undefined;
  const params = m[2]!.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (params.some((p) => !/^[A-Za-z_][\w]*$/.test(p))) return undefined; // defaults, rest, destructuring
  let body = m[3]!.trim(), result: string | undefined;
  const returns = body.match(/\breturn\b/g)?.length ?? 0;
  if (returns > 1) return undefined;
  if (returns === 1) {
    const r = /\breturn\s+([^;]+);$/.exec(body);
    if (!r) return undefined; // the return is not the last statement
    result = r[1]!.trim();
    body = body.slice(0, r.index).trim();
  }
  if (/[`'"/]/.test(body + (result ?? ''))) return undefined; // strings, regexps, comments, division: not scanned
  const declared = new Set(declaredNames(body));
  if ([...params, ...declared].some((n) => n.startsWith('$'))) return undefined; // $-names are the block's ($g<i> registers...)
  const known = new Set([...params, ...declared, ...scope, ...GLOBALS]);
  for (const id of usedNames(body + ';' + (result ?? ''))) if (!known.has(id) && !KEYWORDS.has(id)) return undefined;
  const assigned = new Set(params.filter((p) => new RegExp(`${nameAt(p)}\\s*(?:[-+*/%&|^]|<<|>>>?)?=(?!=)|(?:\\+\\+|--)\\s*${nameAt(p)}|${nameAt(p)}\\s*(?:\\+\\+|--)`).test(body)));
  return { name: m[1]!, params, body, result, declared, assigned };
}

/** A regexp source matching identifier name as a whole name, not as a property after `.`. */
function nameAt(name: string): string {
  return `(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`;
}

/** Identifiers read or written, property names after `.` and case labels' object keys excluded. */
function usedNames(text: string): string[] {
  const out: string[] = [];
  for (const t of text.matchAll(/(\.\s*)?\b([A-Za-z_$][\w$]*)/g)) if (t[1] === undefined) out.push(t[2]!);
  return out;
}

/** Names declared by `const`/`let` statements (each declarator's leading identifier). */
function declaredNames(body: string): string[] {
  const names: string[] = [];
  for (const d of body.matchAll(/\b(?:const|let)\s+([^;]*);/g)) {
    for (const declarator of splitTopLevel(d[1]!)) {
      const id = /^([A-Za-z_$][\w$]*)/.exec(declarator);
      if (id) names.push(id[1]!);
    }
  }
  return names;
}

/**
 * Statements that run helper h on the argument expressions and then the statements use(v), v
 * naming the returned value. The arguments are evaluated first into fresh names (an argument may
 * mention a name the helper declares), the helper's declarations live in a block of their own,
 * and use() runs outside it (it may mention names the helper declares, such as r).
 * Not inlinable (h undefined): a call to the helper by its name.
 */
export function inlineCall(h: InlinableHelper | undefined, name: string, args: readonly string[], use: (v: string) => string,
  nested?: (name: string) => InlinableHelper | undefined): string {
  // Names of their own for each call: an argument or use() may mention an enclosing call's.
  const id = nextCallId++, r = `$r${id}`;
  if (h === undefined) return `{ const ${r} = ${name}(${args.join(', ')}); ${use(r)} }`;
  if (args.length !== h.params.length) throw new Error(`helper ${h.name} takes ${h.params.length} arguments, inlined with ${args.length}`);
  // A parameter the body never assigns, given a plain name or number, is that name or number in
  // the body (fewer declarations: the engine's compile time grows with a function's variables);
  // the rest are bound to the evaluated arguments.
  const bound: number[] = [];
  let body = h.body, result = h.result;
  h.params.forEach((p, i) => {
    const a = args[i]!;
    const literal = /^-?\d+$|^true$|^false$/.test(a);
    const name = /^[A-Za-z_$][\w$]*$/.test(a) && (a === p || (!h.params.includes(a) && !h.declared.has(a)));
    if (h.assigned.has(p) || (!literal && !name)) { bound.push(i); return; }
    const re = new RegExp(nameAt(p), 'g'), by = literal ? `(${a})` : a;
    body = body.replace(re, by);
    if (result !== undefined) result = result.replace(re, by);
  });
  if (nested !== undefined) body = inlineNested(body, nested);
  const bind = bound.map((i) => `$a${id}_${i} = ${args[i]}`).join(', ');
  const params = bound.map((i) => `${h.params[i]} = $a${id}_${i}`).join(', ');
  // A parameter the body assigns to is a let (mulU32's `a >>>= 0`).
  const decl = bound.some((i) => h.assigned.has(h.params[i]!)) ? 'let' : 'const';
  const inner = `{ ${params ? `${decl} ${params}; ` : ''}${body} ${result !== undefined ? `${r} = ${result};` : ''} }`;
  if (h.result === undefined) return `{ ${bind ? `const ${bind}; ` : ''}${inner} ${use('undefined')} }`;
  return `{ ${bind ? `const ${bind}; ` : ''}let ${r}; ${inner} ${use(r)} }`;
}

let nextCallId = 0;

/**
 * body with the calls of helpers that resolve() knows put in place, where the call is a whole
 * statement: `f(args);`, `target = f(args);` or `const|let x = f(args);` (one declarator), after
 * the start of the body, `;`, a brace, an if's condition or `else`. The helpers' own helpers
 * (shiftFlags' recordSzp, shrPair's shr64...) are calls the engine would have to inline itself,
 * which it stops doing in a long block. Other calls stay as they are.
 */
export function inlineNested(body: string, resolve: (name: string) => InlinableHelper | undefined): string {
  const head = /(^|[;{})]|\belse)(\s*)(?:(const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*|([A-Za-z_$][\w$.]*)\s*=\s*)?([A-Za-z_$][\w$]*)\(/g;
  let out = '', from = 0;
  for (let m = head.exec(body); m !== null; m = head.exec(body)) {
    const h = resolve(m[6]!);
    const open = m.index + m[0].length - 1;
    const close = h === undefined ? -1 : matchingParen(body, open);
    if (h === undefined || close < 0 || !/^\s*;/.test(body.slice(close + 1))) continue;
    const args = splitTopLevel(body.slice(open + 1, close));
    if (args.length !== h.params.length) continue;
    const start = m.index + m[1]!.length + m[2]!.length, end = body.indexOf(';', close) + 1;
    const [decl, declName, target] = [m[3], m[4], m[5]];
    const use = declName !== undefined ? (v: string) => `${declName} = ${v};` : target !== undefined ? (v: string) => `${target} = ${v};` : () => '';
    out += body.slice(from, start) + (decl !== undefined ? `let ${declName}; ` : '') + inlineCall(h, m[6]!, args, use, resolve);
    from = end;
    head.lastIndex = end - 1; // the `;` that ends it may begin the next statement's match
  }
  return out + body.slice(from);
}

/** Index of the parenthesis closing the one at open, or -1. */
function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return ch === ')' ? i : -1;
    }
  }
  return -1;
}

/** A list (call arguments, declarators) split at its top-level commas, trimmed. */
function splitTopLevel(list: string): string[] {
  const args: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= list.length; i++) {
    const ch = list[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if ((ch === ',' && depth === 0) || i === list.length) {
      args.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  return args.length === 1 && args[0] === '' ? [] : args;
}
