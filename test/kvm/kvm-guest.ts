/**
 * Fixtures for the KVM tests: a KVM hypervisor through the public API, and guests from
 * guests/build loaded into 4 MiB of RAM in 64-bit long mode (identity-mapped first GiB, so
 * addresses above the RAM are MMIO), with a TSS whose I/O bitmap lets CPL3 code use every port.
 */
import { Hypervisor, State } from '../../src/index.js';
import type { Machine, Vcpu, GuestMemory, VcpuStateInput, VmExit } from '../../src/index.js';
import { longModeState } from '../../src/x86/boot-state.js';
import { guestBinary } from '../support.js';

export const RAM_SIZE = 4 << 20;
export const LOAD = 0x10000;
export const TABLES = 0x100000;
export const TSS = 0x120000;
export const IDT = 0x130000;
export const STACK = 0x200000;
export const MMIO = 0x10000000;

export interface LongGuest {
  hv: Hypervisor;
  machine: Machine;
  ram: GuestMemory;
  cpu: Vcpu;
  view: DataView;
  done(): void;
}

let shared: Hypervisor | undefined;
export function kvm(): Hypervisor {
  shared ??= Hypervisor.open({ backend: 'kvm' });
  return shared;
}

/** A long-mode guest running `name` at LOAD, CPL `cpl`, entry LOAD + entryOffset. */
export function longGuest(name: string, opts: { cpl?: 0 | 3; entryOffset?: number } = {}): LongGuest {
  const hv = kvm();
  const machine = hv.createMachine();
  const ram = machine.allocate(RAM_SIZE);
  machine.map(0, ram);
  ram.bytes.set(guestBinary(name), LOAD);
  const cpu = machine.createVcpu(0);
  const view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.size);
  cpu.setState(longState(ram, opts.cpl ?? 0, LOAD + (opts.entryOffset ?? 0)));
  return { hv, machine, ram, cpu, view, done: () => machine.destroy() };
}

export function longState(ram: GuestMemory, cpl: 0 | 3, entry: number): VcpuStateInput {
  const st = longModeState({ ram: ram.bytes, ramGpa: 0, tablesGpa: TABLES, mapBytes: 1 << 30 }, { entry, stack: STACK, cpl });
  // A TSS with an all-zero I/O bitmap: CPL3 port I/O allowed (the PVM host checks the bitmap even with IOPL=3).
  const view = new DataView(ram.bytes.buffer, ram.bytes.byteOffset, ram.size);
  ram.bytes.fill(0, TSS, TSS + 0x68 + 0x2001);
  view.setUint32(TSS + 4, STACK, true);
  view.setUint16(TSS + 0x66, 0x68, true);
  ram.bytes[TSS + 0x68 + 0x2000] = 0xff;
  st.segs!.tr = { ...st.segs!.tr!, base: BigInt(TSS), limit: 0x68 + 0x2000 } as NonNullable<VcpuStateInput['segs']>['tr'];
  return st;
}

/** Writes a 64-bit interrupt gate for `vector` -> handler (kernel CS 0x08) into the IDT at IDT. */
export function setGate(view: DataView, vector: number, handler: number): void {
  const o = IDT + vector * 16;
  view.setUint32(o, (0x08 << 16) | (handler & 0xffff), true);
  view.setUint32(o + 4, (handler & 0xffff0000) | 0x8e00, true); // P, DPL0, 64-bit interrupt gate
  view.setUint32(o + 8, 0, true);
  view.setUint32(o + 12, 0, true);
}

export function useIdt(cpu: Vcpu): void {
  const segs = cpu.getState(State.SEGS).segs!;
  cpu.setState({ segs: { idt: { ...segs.idt, base: BigInt(IDT), limit: 256 * 16 - 1 } } });
}

/** Runs until an exit other than the ones `skip` accepts; fails the test on 'invalid'. */
export function runTo(cpu: Vcpu): VmExit {
  const e = cpu.run();
  if (e.reason === 'invalid') throw new Error(`guest exit invalid: ${e.detail}`);
  return e;
}

export function gpr(cpu: Vcpu, name: 'rax' | 'rbx' | 'rcx' | 'rdx' | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'rip'): bigint {
  return cpu.getState(State.GPRS).gprs![name];
}
