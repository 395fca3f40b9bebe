/**
 * tsvisor as a user gets it: the project is packed from a clean copy of its tracked files (so the
 * prepack step builds everything the tarball needs), installed into an empty project, and used
 * there: the API from an ESM script, the CLI through npx, and the types from a strict TypeScript
 * consumer (no skipLibCheck, no @types/node).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../support.js';

const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, TSVISOR_BACKEND: '', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const tracked = spawnSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' });
const skip = tracked.status === 0 ? false : `not a git checkout (${tracked.stderr?.trim() || tracked.error?.message}): cannot copy the tracked files to pack`;
if (skip) console.log(`# SKIP package install test: ${skip}`);

test('packed, installed in an empty project: ESM API, npx tsvisor calc and toyvirt, strict types', { skip, timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'tsvisor-pack-'));
  try {
    // A clean copy of what is committed (plus uncommitted edits to tracked files), without dist/ or guests/build/.
    const src = join(work, 'src');
    for (const f of tracked.stdout.split('\0').filter(Boolean)) {
      mkdirSync(dirname(join(src, f)), { recursive: true });
      cpSync(join(REPO, f), join(src, f));
    }
    symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'));
    const out = join(work, 'out');
    mkdirSync(out);
    ok(run('npm', ['pack', '--pack-destination', out], src), 'npm pack (with its prepack build)');
    const [tarball] = readdirSync(out);
    assert.ok(tarball?.endsWith('.tgz'), `no tarball in ${out}`);

    const files = ok(run('tar', ['tzf', join(out, tarball)], work), 'tar tzf').split('\n').filter(Boolean);
    for (const f of ['package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/bin/tsvisor.js',
      'package/guests/build/calc.bin', 'package/guests/build/smallkern', 'package/README.md', 'package/LICENSE', 'package/package.json']) {
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    }
    const unwanted = files.filter((f) => /^package\/(test|dist\/test|bench|dist\/bench|src|scripts|guests\/[^/]+\.S)/.test(f));
    assert.deepEqual(unwanted, [], 'tests, benchmarks and sources stay out of the tarball');

    const user = join(work, 'user');
    mkdirSync(user);
    writeFileSync(join(user, 'package.json'), JSON.stringify({ name: 'tsvisor-user', version: '1.0.0', private: true, type: 'module' }));
    ok(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(out, tarball)], user), 'npm install <tarball>');

    // Real mode at the reset vector: out 0x80, al (AL = 0x2a); hlt.
    writeFileSync(join(user, 'guest.mjs'), `
      import { Hypervisor, resetState, State } from 'tsvisor';
      const hv = Hypervisor.open({ backend: 'auto' });
      const m = hv.createMachine();
      const rom = m.allocate(0x1000);
      rom.bytes.set([0xb0, 0x2a, 0xe6, 0x80, 0xf4], 0xff0);
      m.map(0xfffff000, rom, { prot: 'rx' });
      const cpu = m.createVcpu(0);
      cpu.setState(resetState());
      const seen = [];
      for (;;) {
        const exit = cpu.run();
        if (exit.reason === 'io') { seen.push('io:' + exit.port.toString(16) + '=' + exit.data[0]); cpu.assistIo(exit, () => {}); continue; }
        seen.push(exit.reason);
        break;
      }
      seen.push('rip=' + cpu.getState(State.GPRS).gprs.rip.toString(16));
      console.log(hv.backend + ' ' + seen.join(' '));
      hv.close();
    `);
    assert.match(ok(run(process.execPath, ['guest.mjs'], user), 'ESM guest script'), /^(kvm|soft) io:80=42 halted rip=fff5\n$/);

    assert.equal(ok(run('npx', ['--no-install', 'tsvisor', 'calc', '3', '5'], user), 'npx tsvisor calc'), 'Result: 8\n');
    const toy = ok(run('npx', ['--no-install', 'tsvisor', 'toyvirt', '--interval', '200'], user), 'npx tsvisor toyvirt');
    assert.match(toy, /\[\+\] Guest reported: work done\n\[\+\] Machine received shutdown\n\[\+\] Machine execution successful\n/);

    writeFileSync(join(user, 'consumer.ts'), `
      import { Hypervisor, State, VmmError, type VmExit, type Vcpu } from 'tsvisor';
      export function firstExit(cpu: Vcpu): VmExit['reason'] {
        const exit: VmExit = cpu.run();
        if (exit.reason === 'io') {
          const next: bigint = exit.npc;
          cpu.setState({ gprs: { rip: next } }, State.GPRS);
        }
        return exit.reason;
      }
      export function open(): string {
        try {
          return Hypervisor.open({ backend: 'soft' }).backend;
        } catch (e) {
          return e instanceof VmmError ? e.code : 'unknown';
        }
      }
    `);
    writeFileSync(join(user, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: [], noEmit: true, skipLibCheck: false },
      files: ['consumer.ts'],
    }));
    ok(run(process.execPath, [TSC, '-p', 'tsconfig.json'], user), 'tsc on a strict consumer');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
