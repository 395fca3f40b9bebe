import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND_NAMES, backendSkip } from '../frontend/real-backends.js';
import { tsvisor } from './run-cli.js';

for (const name of BACKEND_NAMES) {
  test(`calc on ${name}: the guest adds, from the reset vector`, { skip: backendSkip(name, 'calc') }, () => {
    for (const [a, b, sum] of [['3', '5', '8'], ['123456789', '987654321', '1111111110'], ['0xffffffff', '1', '4294967296'], ['0', '0', '0']]) {
      const r = tsvisor(['calc', a!, b!, '--backend', name]);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, `Result: ${sum}\n`, `calc ${a} ${b}`);
      assert.equal(r.status, 0);
    }
  });
}

test('calc rejects operands that are not uint32', () => {
  for (const bad of ['-1', '4294967296', '1.5', 'x', '0x1ffffffff']) {
    const r = tsvisor(['calc', bad, '1']);
    assert.equal(r.status, 1, bad);
    assert.match(r.stderr, /expected an unsigned 32-bit integer/, bad);
    assert.equal(r.stdout, '');
  }
  const r = tsvisor(['calc', '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing required argument 'b'/);
});
