/**
 * Caller-visible parity of the backends through the public API (every backend usable here):
 * - inject(): one held exception and one held interrupt at a time; a second of the same kind
 *   before delivery is EBUSY with the same message on each backend; intr.evtPending says so.
 * - NMIs injected together collapse as on hardware and KVM (two at most while unblocked).
 * - setState of CR4/EFER bits a backend does not support: VmmError EINVAL naming the value and
 *   the bits (KVM_SET_SREGS alone answers with a bare errno, the soft CPU used to run with them),
 *   while every bit in the capability's cr4Mask / eferMask is accepted. Likewise CS.L outside
 *   long mode and a CR3 beyond the backend's MAXPHYADDR in long mode (refused by KVM_SET_SREGS),
 *   and non-canonical LSTAR/CSTAR/KERNELGSBASE (refused by KVM_SET_MSRS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hypervisor, State, VmmError, type BackendName, type Vcpu } from '../../src/index.js';
import { backendSkip, BACKEND_NAMES } from '../frontend/real-backends.js';
import { RAM_SIZE, setupState } from './harness.js';

function withVcpu(backend: BackendName, body: (cpu: Vcpu, hv: Hypervisor, ram: Uint8Array) => void): void {
  const hv = Hypervisor.open({ backend });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(RAM_SIZE);
    m.map(0, ram);
    ram.bytes.set([0xf4], 0x10000); // hlt
    const cpu = m.createVcpu(0);
    setupState(cpu, ram.bytes, { name: 'parity', start: 'long-kernel', load: 0x10000, compare: [] });
    body(cpu, hv, ram.bytes);
  } finally {
    hv.close();
  }
}

/** 'ok' or the VmmError code (anything else is a failure). */
function outcome(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof VmmError)) throw e;
    return e.code;
  }
}

const evtPending = (cpu: Vcpu): boolean => cpu.getState(State.INTR).intr!.evtPending;

const NMI_HANDLER = 0x11000, IDT = 0x30000;

/**
 * Guest: nop; out 0x31; hlt, with an NMI handler (out 0x42; iretq) in a 64-bit IDT. Injects
 * `nmis` NMIs before the first run and returns the exits up to the HLT ('io:<port>' or reason).
 */
function nmiSteps(backend: BackendName, nmis: number): string[] {
  const steps: string[] = [];
  withVcpu(backend, (cpu, _hv, ram) => {
    const st = cpu.getState(State.SEGS | State.GPRS);
    ram.set([0x90, 0xe6, 0x31, 0xf4], Number(st.gprs!.rip));
    ram.set([0xe6, 0x42, 0x48, 0xcf], NMI_HANDLER);
    const gate = new DataView(ram.buffer, ram.byteOffset + IDT + 2 * 16, 16);
    gate.setUint16(0, NMI_HANDLER & 0xffff, true);
    gate.setUint16(2, 0x08, true);
    gate.setUint16(4, 0x8e00, true);
    gate.setUint16(6, NMI_HANDLER >>> 16, true);
    cpu.setState({ segs: { idt: { ...st.segs!.idt, base: BigInt(IDT), limit: 0xfff } } });
    for (let k = 0; k < nmis; k++) cpu.inject({ type: 'nmi' });
    for (let n = 0; n < 10; n++) {
      const e = cpu.run();
      if (e.reason === 'io' && !e.in) {
        cpu.assistIo(e, () => {});
        steps.push(`io:${e.port.toString(16)}`);
        continue;
      }
      steps.push(e.reason);
      return;
    }
  });
  return steps;
}

for (const backend of BACKEND_NAMES) {
  const skip = backendSkip(backend, 'backend parity');

  test(`${backend}: a second held exception or interrupt is EBUSY; evtPending tracks what is held`, { skip }, () => {
    withVcpu(backend, (cpu) => {
      // IF=0 (kernel-mode start): nothing is delivered before run(), and interrupts not even then.
      assert.equal(evtPending(cpu), false, 'nothing pending at first');
      const answers = [
        outcome(() => cpu.inject({ type: 'exception', vector: 6 })),
        outcome(() => cpu.inject({ type: 'exception', vector: 13, errorCode: 0 })),
        outcome(() => cpu.inject({ type: 'interrupt', vector: 0x40 })),
        outcome(() => cpu.inject({ type: 'interrupt', vector: 0x41 })),
      ];
      assert.deepEqual(answers, ['ok', 'EBUSY', 'ok', 'EBUSY']);
      assert.throws(() => cpu.inject({ type: 'exception', vector: 0 }),
        (e: unknown) => e instanceof VmmError && new RegExp(`^EBUSY: ${backend}: exception 6 is still waiting for delivery$`).test(e.message));
      assert.throws(() => cpu.inject({ type: 'interrupt', vector: 0x42 }),
        (e: unknown) => e instanceof VmmError && new RegExp(`^EBUSY: ${backend}: interrupt 64 is still waiting for delivery$`).test(e.message));
      assert.equal(evtPending(cpu), true, 'evtPending with an exception and an interrupt held');
      cpu.setState({ intr: { evtPending: false } });
      assert.equal(evtPending(cpu), false, 'evtPending = false drops the held events');
      assert.equal(outcome(() => cpu.setState({ intr: { evtPending: true } })), 'EINVAL', 'evtPending cannot be made up');
      assert.equal(outcome(() => cpu.inject({ type: 'interrupt', vector: 0x41 })), 'ok', 'the slot is free again');
      assert.equal(evtPending(cpu), true);
    });
  });

  test(`${backend}: an interrupt held while IF=0 keeps the slot busy across run() until delivered`, { skip }, () => {
    withVcpu(backend, (cpu) => {
      cpu.inject({ type: 'interrupt', vector: 0x40 });
      assert.equal(cpu.run().reason, 'halted', 'IF=0: the guest halts, the interrupt stays held');
      assert.equal(evtPending(cpu), true);
      assert.equal(outcome(() => cpu.inject({ type: 'interrupt', vector: 0x41 })), 'EBUSY');
    });
  });

  test(`${backend}: an injected NMI shows in evtPending, and evtPending = false drops it`, { skip }, () => {
    withVcpu(backend, (cpu) => {
      cpu.inject({ type: 'nmi' });
      assert.equal(evtPending(cpu), true);
      cpu.setState({ intr: { evtPending: false } });
      assert.equal(evtPending(cpu), false);
      assert.equal(cpu.run().reason, 'halted', 'no NMI handler ran (there is none: it would triple-fault)');
    });
  });

  test(`${backend}: NMIs injected together collapse as on hardware (one delivered, one held, the rest dropped)`, { skip }, () => {
    assert.deepEqual(nmiSteps(backend, 1), ['io:42', 'io:31', 'halted']);
    // Where the second goes in may differ: a host without NMI-window exits (the PVM module)
    // delivers it at the guest's next exit after the IRET, not at the IRET.
    const steps = nmiSteps(backend, 3);
    assert.equal(steps.filter((s) => s === 'io:42').length, 2, steps.join(' '));
    assert.deepEqual(steps.filter((s) => s !== 'io:42'), ['io:31', 'halted'], steps.join(' '));
  });

  test(`${backend}: CS.L outside long mode and a CR3 beyond MAXPHYADDR in long mode are EINVAL naming them`, { skip }, () => {
    withVcpu(backend, (cpu, hv) => {
      const before = cpu.getState(State.SEGS | State.CRS);
      const cs = before.segs!.cs;
      const refused = (st: Parameters<Vcpu['setState']>[0], re: RegExp): void =>
        assert.throws(() => cpu.setState(st), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && re.test(e.message), re.source);
      // Leaving long mode with the 64-bit CS still loaded.
      refused({ crs: { cr0: 0x11n, cr4: 0x620n }, msrs: { efer: 0n } }, /CS\.L \(64-bit code segment\) outside long mode/);
      const bits = hv.capability().arch.physAddrBits;
      refused({ crs: { cr3: 1n << BigInt(bits) } }, new RegExp(`CR3 0x${(1n << BigInt(bits)).toString(16)} points beyond the ${bits}-bit`));
      assert.deepEqual(cpu.getState(State.SEGS | State.CRS), before, 'refused calls change nothing');
      // Leaving long mode with a 32-bit CS is fine.
      cpu.setState({ crs: { cr0: 0x11n, cr4: 0x620n }, msrs: { efer: 0n }, segs: { cs: { ...cs, l: 0, def: 1 } } });
    });
  });

  test(`${backend}: LSTAR, CSTAR and KERNELGSBASE take canonical addresses only`, { skip }, () => {
    withVcpu(backend, (cpu, hv) => {
      const bits = ((hv.capability().arch.cr4Mask >> 12n) & 1n) !== 0n ? 57n : 48n; // CR4.LA57
      const high = ((1n << 64n) - 1n) ^ ((1n << (bits - 1n)) - 1n); // lowest canonical upper-half address
      for (const name of ['lstar', 'cstar', 'kernelgsbase'] as const) {
        cpu.setState({ msrs: { [name]: high } });
        cpu.setState({ msrs: { [name]: (1n << (bits - 1n)) - 1n } });
        assert.equal(cpu.getState(State.MSRS).msrs![name], (1n << (bits - 1n)) - 1n);
        const bad = 1n << (bits - 1n);
        assert.throws(() => cpu.setState({ msrs: { [name]: bad } }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' &&
          e.message.includes(`state.msrs.${name} 0x${bad.toString(16)} is not a canonical`), name);
      }
    });
  });

  test(`${backend}: CR4 and EFER bits outside the capability's masks are EINVAL naming value and bits`, { skip }, () => {
    withVcpu(backend, (cpu, hv) => {
      const { cr4Mask, eferMask } = hv.capability().arch;
      const crs = cpu.getState(State.CRS).crs!;
      const efer = cpu.getState(State.MSRS).msrs!.efer;
      let refused = 0;
      for (let bit = 0n; bit < 32n; bit++) {
        const cr4 = crs.cr4 | (1n << bit);
        const got = outcome(() => cpu.setState({ crs: { cr4 } }));
        if ((cr4Mask >> bit) & 1n) {
          assert.equal(got, 'ok', `CR4 bit ${bit} is in cr4Mask 0x${cr4Mask.toString(16)}`);
          cpu.setState({ crs: { cr4: crs.cr4 } });
          continue;
        }
        refused++;
        assert.throws(() => cpu.setState({ crs: { cr4 } }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' &&
          e.message.includes(`0x${cr4.toString(16)}`) && e.message.includes(`bits 0x${(1n << bit).toString(16)}`), `CR4 bit ${bit}`);
        assert.equal(cpu.getState(State.CRS).crs!.cr4, crs.cr4, `a refused CR4 bit ${bit} changes nothing`);
      }
      // SMXE (bit 14) is supported by neither backend: at least that one is refused everywhere.
      assert.ok(refused > 0 && ((cr4Mask >> 14n) & 1n) === 0n, `cr4Mask 0x${cr4Mask.toString(16)}`);
      for (let bit = 0n; bit < 32n; bit++) {
        if ((eferMask >> bit) & 1n) continue;
        const value = efer | (1n << bit);
        assert.throws(() => cpu.setState({ msrs: { efer: value } }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' &&
          e.message.includes(`0x${value.toString(16)}`), `EFER bit ${bit}`);
      }
      assert.equal(cpu.run().reason, 'halted', 'the vCPU still runs after the refused calls');
    });
  });
}
