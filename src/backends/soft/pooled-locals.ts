/**
 * Turns the block-scoped declarations in a compiled block's statements into assignments to a few
 * function-level variables ($t0, $t1...), reused from one statement group (an instruction) to the
 * next. Why: V8's optimising compiler gives every variable a function declares a register of its
 * own, in whatever block, and copies the register file at each branch and deoptimisation point,
 * so compile time grows with declarations x branches: 320 small statements with names of their
 * own took 180 ms to optimise, with reused names 26 ms, and 64-instruction kernel blocks (inlined
 * helpers declare a dozen names per instruction) took 100-400 ms each.
 *
 * The text is generated code and inlined helper bodies (helper-inline.ts): identifiers, numbers,
 * operators, parentheses and braces; no strings, comments, regexps, functions or object literals
 * (parseHelper refuses those). Braces open scopes; `const`/`let` declarators are split at commas
 * outside brackets; a name is resolved innermost scope first, and a property name after `.` is
 * not a name.
 */

/** The renamed groups, and the pool names they use (to declare once, at the function's top). */
export function poolLocals(groups: readonly string[]): { groups: string[]; pool: string[] } {
  let most = 0;
  const out = groups.map((text) => {
    const renamed = renameGroup(text);
    most = Math.max(most, renamed.count);
    return renamed.text;
  });
  return { groups: out, pool: Array.from({ length: most }, (_, i) => `$t${i}`) };
}

/** Character classes of the tokens (identifiers, numbers, whitespace runs; anything else is one character). */
const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95; // [A-Za-z_]
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isNameStart = (c: number): boolean => isLetter(c) || c === 36;
const isNamePart = (c: number): boolean => isNameStart(c) || isDigit(c); // [\w$]
const isNumberPart = (c: number): boolean => isLetter(c) || isDigit(c) || c === 46; // [\w.]
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(String.fromCharCode(c)));

/**
 * The end of the token that starts at i: an identifier ([A-Za-z_$][\w$]*), a number (\d[\w.]*),
 * a whitespace run, or one character. A scan over character codes: this runs over every block's
 * text, and a regex match per token allocated more than the text itself.
 */
function tokenEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  let j = i + 1;
  if (isNameStart(c)) {
    while (j < text.length && isNamePart(text.charCodeAt(j))) j++;
  } else if (isDigit(c)) {
    while (j < text.length && isNumberPart(text.charCodeAt(j))) j++;
  } else if (isSpace(c)) {
    while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  }
  return j;
}

function renameGroup(text: string): { text: string; count: number } {
  const scopes: Map<string, string>[] = [new Map()];
  let count = 0, declaring = false, expectName = false, depth = 0, prev = '';
  // A declarator without an initializer becomes `x = undefined` (as `let x;` starts it), not a
  // bare `x`: a read there would keep the pooled name's previous value alive up to it, into the
  // engine's deoptimisation states and, in a region's loop, around the loop.
  let bare = false;
  let out = '';
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i), end = tokenEnd(text, i);
    const t = text.slice(i, end);
    i = end;
    if (isSpace(c)) { out += t; continue; }
    if (bare && (t === ',' || t === ';')) out += ' = undefined';
    bare = false;
    const isName = isNameStart(c) && prev !== '.';
    if (isName && (t === 'const' || t === 'let')) {
      declaring = true; expectName = true; depth = 0;
      prev = t;
      continue; // the declaration becomes an assignment
    }
    if (isName && expectName) {
      // A group's names never reach the next group (whose pool names are the same): every
      // declaration must sit inside the group's braces.
      if (scopes.length === 1) throw new Error(`pooled-locals: ${t} is declared outside braces`);
      const pooled = `$t${count++}`;
      scopes[scopes.length - 1]!.set(t, pooled);
      out += pooled;
      expectName = false;
      bare = true;
    } else if (isName) {
      let found: string | undefined;
      for (let s = scopes.length - 1; s >= 0 && found === undefined; s--) found = scopes[s]!.get(t);
      out += found ?? t;
    } else {
      if (t === '{') scopes.push(new Map());
      else if (t === '}') scopes.pop();
      else if (t === '(' || t === '[') depth++;
      else if (t === ')' || t === ']') depth--;
      else if (t === ',' && declaring && depth === 0) expectName = true;
      else if (t === ';') declaring = false;
      out += t;
    }
    prev = t;
  }
  if (scopes.length !== 1) throw new Error('pooled-locals: unbalanced braces in generated block code');
  return { text: out, count };
}
