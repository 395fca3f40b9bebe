import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND_NAMES, backendSkip } from '../frontend/real-backends.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support.js';
import { tsvisor } from './run-cli.js';

for (const name of BACKEND_NAMES) {
  test(`identify --json --backend ${name}`, { skip: backendSkip(name, 'identify') }, () => {
    const r = tsvisor(['identify', '--json', '--backend', name]);
    assert.equal(r.status, 0, r.stderr);
    const id = JSON.parse(r.stdout) as Record<string, unknown> & { arch: Record<string, unknown> };
    assert.equal(id['backend'], name);
    assert.equal(id['version'], 1);
    assert.equal(id['maxMachines'], 128);
    assert.equal(id['maxVcpus'], 128);
    assert.ok(Number.isInteger(id['stateSize']) && (id['stateSize'] as number) > 0, `stateSize ${id['stateSize']}`);
    assert.ok(Number.isInteger(id['maxRam']) && (id['maxRam'] as number) >= 1 << 20, `maxRam ${id['maxRam']}`);
    assert.deepEqual(id.arch['vcpuConf'], { cpuid: true, tpr: true });
    assert.match(id.arch['xcr0Mask'] as string, /^0x[0-9a-f]+$/);
    const fpu = id.arch['guestFpuStates'] as string[];
    assert.equal(fpu[0], 'x87', 'XCR0 bit 0 (x87) is architecturally always set');
    assert.equal(fpu.length, BigInt(id.arch['xcr0Mask'] as string).toString(2).replace(/0/g, '').length, 'one name per mask bit');
  });

  test(`identify (text) --backend ${name} prints every line`, { skip: backendSkip(name, 'identify') }, () => {
    const r = tsvisor(['identify', '--backend', name]);
    assert.equal(r.status, 0, r.stderr);
    for (const re of [
      new RegExp(`^tsvisor: Backend ${name}$`, 'm'), /^tsvisor: API version 1$/m, /^tsvisor: State size \d+$/m,
      /^tsvisor: Max machines 128$/m, /^tsvisor: Max VCPUs per machine 128$/m, /^tsvisor: Max RAM per machine \d+\.\d[KMGT]$/m,
      /^tsvisor: Arch VCPU conf 0x3<CPUID,TPR>$/m, /^tsvisor: Guest FPU states 0x[0-9a-f]+<x87(,[A-Za-z_0-9]+)*>$/m,
    ]) assert.match(r.stdout, re);
  });
}

test("identify with 'auto' names why KVM is not used exactly when it took the soft CPU", { skip: backendSkip('soft', 'identify') }, () => {
  const text = tsvisor(['identify'], { TSVISOR_BACKEND: '' });
  const json = tsvisor(['identify', '--json'], { TSVISOR_BACKEND: '' });
  assert.equal(text.status, 0, text.stderr);
  const id = JSON.parse(json.stdout) as { backend: string; kvmNotUsed?: string };
  if (id.backend === 'soft') {
    assert.match(text.stdout, /^tsvisor: Backend soft\ntsvisor: KVM not used: \S.*$/m);
    assert.ok((id.kvmNotUsed ?? '').length > 0, json.stdout);
  } else {
    assert.doesNotMatch(text.stdout, /KVM not used/);
    assert.equal(id.kvmNotUsed, undefined);
  }
  // Asked for by name, the soft CPU is no fallback: nothing to explain.
  assert.doesNotMatch(tsvisor(['identify', '--backend', 'soft']).stdout, /KVM not used/);
});

test('identify refuses an unknown backend with a usage error', () => {
  const r = tsvisor(['identify', '--backend', 'qemu']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /'qemu' is invalid/);
  assert.equal(r.stdout, '');
});

test('TSVISOR_BACKEND with a bad value is one line on stderr, exit 1', () => {
  const r = tsvisor(['identify'], { TSVISOR_BACKEND: 'xen' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'tsvisor identify: EINVAL: TSVISOR_BACKEND must be \'auto\', \'kvm\' or \'soft\', got "xen"\n');
});

test('--version prints the package version', () => {
  const r = tsvisor(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}\n`);
});
