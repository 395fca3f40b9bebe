/**
 * The ACPICA tools as an oracle: iasl (disassembler and ASL compiler, which also validates table
 * checksums and layouts) and acpiexec (the ACPICA core Linux itself uses: it loads the tables,
 * parses the FADT and evaluates AML). Installed by `apt-get install acpica-tools`; tests that
 * need them skip visibly when they are absent.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

const skips = new Map<string, string | false>();

/** Why `tool` cannot be used (a skip reason), or false. */
export function acpicaSkip(tool: 'iasl' | 'acpiexec'): string | false {
  let s = skips.get(tool);
  if (s === undefined) {
    s = onPath(tool) ? false : `${tool} not installed (apt-get install acpica-tools)`;
    skips.set(tool, s);
  }
  return s;
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'acpi-oracle-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ToolRun {
  status: number | null;
  /** stdout and stderr together. */
  log: string;
}

function run(cmd: string, args: string[], cwd: string): ToolRun {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, log: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** iasl -d on one binary table: the .dsl text and what iasl said. */
export function disassemble(table: Uint8Array): ToolRun & { dsl: string } {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'table.dat'), table);
    const r = run('iasl', ['-d', 'table.dat'], dir);
    let dsl = '';
    try {
      dsl = readFileSync(join(dir, 'table.dsl'), 'utf8');
    } catch {
      // no output: the log says why
    }
    return { ...r, dsl };
  });
}

/**
 * Compiles ASL with iasl (named-reference optimization off, so paths stay as written) and returns
 * the AML table (header included) and the log.
 */
export function compileAsl(source: string): ToolRun & { aml: Uint8Array } {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'in.asl'), source);
    const r = run('iasl', ['-on', '-p', 'out', 'in.asl'], dir);
    let aml = new Uint8Array(0);
    try {
      aml = new Uint8Array(readFileSync(join(dir, 'out.aml')));
    } catch {
      // compile failed: the log says why
    }
    return { ...r, aml };
  });
}

/** acpiexec in batch mode over the given tables, running `commands` (joined with ';'). */
export function acpiexec(tables: { name: string; bytes: Uint8Array }[], commands: string[]): ToolRun {
  return withTempDir((dir) => {
    for (const t of tables) writeFileSync(join(dir, t.name), t.bytes);
    return run('acpiexec', ['-b', commands.join('; '), ...tables.map((t) => t.name)], dir);
  });
}

/** Lines of a tool log that report a problem (the banners and progress lines never match). */
export function problemLines(log: string): string[] {
  return log.split('\n').filter((l) => /error|warning|invalid|incorrect|mismatch|unknown|exception/i.test(l));
}
