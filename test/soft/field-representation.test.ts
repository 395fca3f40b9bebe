/**
 * The soft CPU's number fields that take values beyond V8's 31-bit small integers (the flag
 * record's int32 operands, descriptor-table and MSR addresses, CR2/CR3, the retired count) start
 * as doubles (lazy-flags F64_ZERO): such a value must not give the CPU object a new hidden class,
 * which would deoptimise every function compiled against the old one. Checked in a child process
 * with V8's %HaveSameMap (--allow-natives-syntax), one field at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { REPO } from '../support.js';

const FIELDS = ['lfA', 'lfAh', 'lfB', 'lfBh', 'lfR', 'lfRh', 'gdtBase', 'idtBase', 'cr2', 'cr3', 'lstar', 'cstar',
  'kernelGsBase', 'sysenterEsp', 'sysenterEip', 'tscOffset', 'instret', 'memHi'];

test('large values in the soft CPU number fields keep its hidden class', () => {
  const url = (path: string): string => pathToFileURL(join(REPO, 'dist', 'src', 'backends', 'soft', path)).href;
  const script = `
    import { SoftCpu } from '${url('cpu.js')}';
    import { PhysMemory } from '${url('memory.js')}';
    const changed = [];
    for (const field of ${JSON.stringify(FIELDS)}) {
      for (const value of [-0x76543210, 0x87654321, -(2 ** 47) + 4096, 2 ** 40]) {
        const a = new SoftCpu(new PhysMemory()), b = new SoftCpu(new PhysMemory());
        b[field] = value;
        if (!%HaveSameMap(a, b)) changed.push(field + ' = ' + value);
      }
    }
    console.log(JSON.stringify(changed));`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout) as string[], [], 'fields whose large value changed the hidden class');
});
