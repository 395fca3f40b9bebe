/**
 * Global pages (tlb.ts flushNonGlobal, paging.ts): a MOV to CR3 drops the TLB's entries except
 * those for pages mapped with G while CR4.PGE = 1, as on hardware; INVLPG drops a global entry,
 * and clearing CR4.PGE drops them all. A guest reads a linear page, points its PTE at another
 * frame without INVLPG, reloads CR3 and reads again: a global entry still gives the old frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { le32 } from '../support.js';
import { gprs, longMode, softVm } from './vm.js';
import { P_RS, Tlb, TLB_MASK, TLB_SIZE } from '../../src/backends/soft/tlb.js';

const PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000, PT = 0x103000;
const PAGE = 0x180000, OLD = 0x190000, NEW = 0x1a0000, CODE = 0x10000;
const PTE_OF_PAGE = PT + (PAGE >>> 12) * 8;
const P_RW = 0x3, G = 0x100, CR4_PGE = 0x80n;

function run(global: boolean, togglePge: boolean): { before: number; afterCr3: number; afterInvlpg: number } {
  const vm = softVm();
  try {
    const v = new DataView(vm.ram.buffer, vm.ram.byteOffset);
    v.setUint32(PML4, PDPT | P_RW, true);
    v.setUint32(PDPT, PD | P_RW, true);
    v.setUint32(PD, PT | P_RW, true);
    // 0-2 MiB identity-mapped in 4 KiB pages (global where asked), except PAGE -> OLD.
    for (let k = 0; k < 512; k++) v.setUint32(PT + 8 * k, (k * 4096) | P_RW | (global ? G : 0), true);
    v.setUint32(PTE_OF_PAGE, OLD | P_RW | (global ? G : 0), true);
    v.setUint32(OLD, 0xaaaa, true);
    v.setUint32(NEW, 0xbbbb, true);
    const newPte = NEW | P_RW | (global ? G : 0);
    vm.ram.set([
      0x8b, 0x04, 0x25, ...le32(PAGE),                  // mov eax, [PAGE]
      0xc7, 0x04, 0x25, ...le32(PTE_OF_PAGE), ...le32(newPte), // mov dword [PTE], new frame
      0x0f, 0x20, 0xd9, 0x0f, 0x22, 0xd9,               // mov rcx, cr3; mov cr3, rcx
      ...(togglePge ? [
        0x0f, 0x20, 0xe2, 0x48, 0x81, 0xf2, ...le32(0x80), 0x0f, 0x22, 0xe2, // mov rdx, cr4; xor rdx, PGE; mov cr4, rdx
        0x48, 0x81, 0xf2, ...le32(0x80), 0x0f, 0x22, 0xe2, // xor rdx, PGE; mov cr4, rdx
      ] : []),
      0x8b, 0x1c, 0x25, ...le32(PAGE),                  // mov ebx, [PAGE]
      0x0f, 0x01, 0x3c, 0x25, ...le32(PAGE),            // invlpg [PAGE]
      0x8b, 0x34, 0x25, ...le32(PAGE),                  // mov esi, [PAGE]
      0xf4,
    ], CODE);
    const state = longMode(vm, CODE);
    vm.cpu.setState({ ...state, crs: { ...state.crs!, cr3: BigInt(PML4), cr4: state.crs!.cr4! | CR4_PGE } });
    assert.equal(vm.cpu.run().reason, 'halted');
    const r = gprs(vm.cpu);
    return { before: Number(r.rax), afterCr3: Number(r.rbx), afterInvlpg: Number(r.rsi) };
  } finally {
    vm.hv.close();
  }
}

test('global pages: a MOV to CR3 keeps a global entry and drops the others; INVLPG and a CR4.PGE toggle drop it', () => {
  assert.deepEqual(run(true, false), { before: 0xaaaa, afterCr3: 0xaaaa, afterInvlpg: 0xbbbb }, 'global: the old frame until INVLPG');
  assert.deepEqual(run(false, false), { before: 0xaaaa, afterCr3: 0xbbbb, afterInvlpg: 0xbbbb }, 'not global: the new frame after CR3');
  assert.deepEqual(run(true, true), { before: 0xaaaa, afterCr3: 0xbbbb, afterInvlpg: 0xbbbb }, 'global, CR4.PGE cleared and set: the new frame');
});

test('TLB: a MOV to CR3 drops every non-global entry filled since the last flush, past TLB_SIZE fills too, and keeps the global ones', () => {
  const views = { u8: new Uint8Array(4096), buffer: undefined };
  const fillLocal = (tlb: Tlb, page: number): void => tlb.fill(page & TLB_MASK, page, P_RS, page, views, 0, false);
  for (const overflow of [false, true]) {
    const tlb = new Tlb();
    // Past TLB_SIZE fills (slot 5 refilled over and over first), slots 9 and 11 are no longer listed.
    if (overflow) for (let k = 0; k < TLB_SIZE; k++) fillLocal(tlb, 5 + k * TLB_SIZE);
    for (const page of [9, 11, 2 * TLB_SIZE + 12]) fillLocal(tlb, page);
    // Every seventh slot then gets a global page of its own (slot 0 replacing nothing, slot 7...).
    for (let i = 0; i < TLB_SIZE; i += 7) tlb.fill(i, 0x100000 + i, P_RS, i, views, 0, true);
    tlb.flushNonGlobal();
    for (let i = 0; i < TLB_SIZE; i++) {
      const kept = i % 7 === 0;
      assert.equal(tlb.tag[i], kept ? 0x100000 + i : NaN, `overflow ${overflow}: slot ${i} ${kept ? 'keeps its global page' : 'is empty'}`);
    }
    // Filled again after the flush: dropped by the next one.
    fillLocal(tlb, 3);
    tlb.flushNonGlobal();
    assert.ok(Number.isNaN(tlb.tag[3]!));
  }
});
