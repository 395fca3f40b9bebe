/**
 * A tiny in-test Backend that records every call it gets, so the frontend's checks can be tested
 * without KVM: a test asserts both the VmmError on bad input and that the backend never saw it.
 */
import type { Capability, CpuidConf, Prot, TprConf, VcpuEvent, VcpuState, VcpuStateInput, VcpuStopHandle, VmExit } from '../../src/api/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmmError } from '../../src/api/errors.js';
import type { Backend, BackendMachine, BackendVcpu, GuestMemory } from '../../src/backends/backend.js';

/** Points this process's machine registry at a fresh temp dir (call before the first machine). */
export function useTempRundir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-test-'));
  process.env['TSVISOR_RUNDIR'] = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type Call = [string, ...unknown[]];

export interface FakeBackend extends Backend {
  calls: Call[];
  /** What every fake vCPU's getState returns (whatever the flags). */
  vcpuState: Partial<VcpuState>;
  /** Calls whose name starts with prefix. */
  named(prefix: string): Call[];
}

export function fakeCapability(over: Partial<Capability> = {}): Capability {
  return {
    version: 99, stateSize: 1024, maxMachines: 1000, maxVcpus: 1000, maxRam: 64 * 1024 * 1024,
    arch: { vcpuConf: { cpuid: true, tpr: true }, xcr0Mask: 0x7n, mxcsrMask: 0xffff, cpuidMaxOps: 4,
      cr4Mask: 0xffffffffn, eferMask: 0xffffffffn, physAddrBits: 52 },
    ...over,
  };
}

export function fakeBackend(cap: Capability = fakeCapability()): FakeBackend {
  const calls: Call[] = [];
  let machines = 0;
  const vcpu = (mid: number, id: number): BackendVcpu => ({
    getState: (flags: number): Partial<VcpuState> => { calls.push(['vcpu.getState', mid, id, flags]); return fb.vcpuState; },
    setState: (s: VcpuStateInput, flags: number) => { calls.push(['vcpu.setState', mid, id, s, flags]); },
    configureCpuid: (leaf: number, conf: CpuidConf) => { calls.push(['vcpu.configureCpuid', mid, id, leaf, conf]); },
    configureTpr: (conf: TprConf) => { calls.push(['vcpu.configureTpr', mid, id, conf]); },
    inject: (e: VcpuEvent) => { calls.push(['vcpu.inject', mid, id, e]); },
    run: (): VmExit => {
      calls.push(['vcpu.run', mid, id]);
      return { reason: 'halted', exitState: { rflags: 2n, cr8: 0n, intShadow: false, intWindowExiting: false, nmiWindowExiting: false, evtPending: false } };
    },
    stop: () => { calls.push(['vcpu.stop', mid, id]); },
    stopHandle: (): VcpuStopHandle => ({ backend: 'soft', data: { mid, id } }),
    destroy: () => { calls.push(['vcpu.destroy', mid, id]); },
  });
  const machine = (mid: number): BackendMachine => ({
    map: (gpa: number, mem: GuestMemory, off: number, size: number, prot: Prot) => { calls.push(['machine.map', mid, gpa, mem, off, size, prot]); },
    unmap: (gpa: number, size: number) => { calls.push(['machine.unmap', mid, gpa, size]); },
    createVcpu: (id: number) => { calls.push(['machine.createVcpu', mid, id]); return vcpu(mid, id); },
    hostWrote: (gpa: number, size: number) => { calls.push(['machine.hostWrote', mid, gpa, size]); },
    share: () => { calls.push(['machine.share', mid]); return { mid }; },
    destroy: () => { calls.push(['machine.destroy', mid]); },
  });
  const fb: FakeBackend = {
    name: 'soft',
    calls,
    vcpuState: {},
    named: (prefix) => calls.filter((c) => c[0].startsWith(prefix)),
    capability: () => cap,
    allocate: (size: number): GuestMemory => { calls.push(['allocate', size]); return { bytes: new Uint8Array(size), size }; },
    release: (m: GuestMemory) => { calls.push(['release', m.size]); },
    createMachine: (options?: Record<string, unknown>) => { const mid = ++machines; calls.push(['createMachine', mid, options]); return machine(mid); },
    attachMachine: (data: Record<string, unknown>) => { const mid = ++machines; calls.push(['attachMachine', mid, data]); return { machine: machine(mid), mappings: [] }; },
    close: () => { calls.push(['close']); },
  };
  return fb;
}

/** Asserts fn throws a VmmError with this code and a message matching re. */
export function vmmErrorLike(code: string, re?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof VmmError)) throw new Error(`expected VmmError ${code}, got ${String(e)}`);
    const err = e;
    if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.message}`);
    if (re && !re.test(err.message ?? '')) throw new Error(`message ${JSON.stringify(err.message)} does not match ${re}`);
    return true;
  };
}
