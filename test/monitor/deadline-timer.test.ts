/**
 * The deadline timer's thread (deadline-timer.ts) starts only when something needs it: at once
 * when other threads kick the vCPU through it (SMP), else at the first finite deadline. A soft
 * vCPU on guest time never arms one (its runs stop themselves at device deadlines), so a
 * uniprocessor soft boot runs without that thread. Armed, it stops a vCPU spinning in run().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineTimer } from '../../src/vmm/core/deadline-timer.js';
import { hostNow } from '../../src/vmm/core/time-base.js';
import { createKickBuffers, VcpuKick } from '../../src/vmm/core/vcpu-kick.js';
import { realModeState } from '../../src/x86/boot-state.js';
import { softVm } from '../soft/vm.js';

/** A soft vCPU spinning on JMP $ in real mode. */
function spinning(): ReturnType<typeof softVm> {
  const vm = softVm();
  vm.ram.set([0xeb, 0xfe], 0x1000);
  vm.cpu.setState(realModeState(0, 0x1000));
  return vm;
}

test('without kick buffers the timer thread waits for a finite deadline, then stops the spinning vCPU at it', async () => {
  const vm = spinning();
  const timer = new DeadlineTimer(vm.cpu.stopHandle());
  try {
    assert.equal(timer.started, false, 'made: no thread yet');
    timer.arm(Infinity);
    assert.equal(timer.started, false, 'no deadline: still none');
    const due = hostNow() + 50e6;
    timer.arm(due);
    assert.equal(timer.started, true, 'a finite deadline starts it');
    const exit = vm.cpu.run();
    assert.equal(exit.reason, 'stopped');
    assert.ok(hostNow() >= due, 'stopped at the deadline, not before');
  } finally {
    await timer.close();
    vm.hv.close();
  }
});

test('with kick buffers the timer thread runs from the start: a kick from another holder stops the vCPU', async () => {
  const vm = spinning();
  const buffers = createKickBuffers();
  const timer = new DeadlineTimer(vm.cpu.stopHandle(), buffers);
  try {
    assert.equal(timer.started, true);
    new VcpuKick(buffers).kick();
    assert.equal(vm.cpu.run().reason, 'stopped');
  } finally {
    await timer.close();
    vm.hv.close();
  }
});

test('closing a timer whose thread never started is a no-op', async () => {
  const vm = spinning();
  const timer = new DeadlineTimer(vm.cpu.stopHandle());
  await timer.close();
  assert.equal(timer.started, false);
  vm.hv.close();
});
