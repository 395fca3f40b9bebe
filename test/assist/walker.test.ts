import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  walk, translateGva, TranslationError, type PagingRegs, type WalkResult, type GuestCpu,
  ACCESS_FETCH, ACCESS_IMPLICIT, ACCESS_PROBE, ACCESS_READ, ACCESS_SET_AD, ACCESS_USER, ACCESS_WRITE,
  CR0_PG, CR0_WP, CR4_LA57, CR4_PAE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_LMA, EFER_LME, EFER_NXE, RFLAGS_AC,
  PFEC_I, PFEC_P, PFEC_RSVD, PFEC_U, PFEC_W, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE,
} from '../../src/x86/mmu/index.js';
import { VmmError } from '../../src/api/errors.js';
import { TestRam, P, RW, US, A, D, PS, XD } from './page-tables.js';

const ALL = PROT_READ | PROT_WRITE | PROT_EXEC | PROT_USER;

function regs(over: Partial<PagingRegs>): PagingRegs {
  return { cr0: 0, cr3Lo: 0, cr3Hi: 0, cr4: 0, efer: 0, rflags: 2, maxPhyAddr: 52, ...over };
}
function ok(r: WalkResult): { gpa: number; prot: number; pageSize: number } {
  if (!r.ok) assert.fail(`expected a translation, got ${r.kind}: ${r.reason}`);
  return r;
}
function bad(r: WalkResult, kind: string, errorCode: number, vector = 14): void {
  if (r.ok) assert.fail(`expected ${kind}, got gpa 0x${r.gpa.toString(16)}`);
  assert.equal(r.kind, kind, r.reason);
  assert.equal(r.vector, vector, r.reason);
  assert.equal(r.errorCode, errorCode, `error code for ${r.reason}`);
}

/** 4-level tables mapping one GVA (hi:lo) with the given flags per level; returns the RAM and regs. */
function long4(flags: { pml4?: number; pdpt?: number; pd?: number; pt?: number; hi?: number[] } = {}) {
  const ram = new TestRam();
  const pml4 = ram.table(), pdpt = ram.table(), pd = ram.table(), pt = ram.table();
  const f = (v: number | undefined) => v ?? (P | RW | US);
  const hi = flags.hi ?? [0, 0, 0, 0];
  ram.set64(pml4 + 8 * 1, hi[0]!, pdpt | f(flags.pml4));        // GVA bits 47:39 = 1
  ram.set64(pdpt + 8 * 2, hi[1]!, pd | f(flags.pdpt));          // bits 38:30 = 2
  ram.set64(pd + 8 * 3, hi[2]!, pt | f(flags.pd));              // bits 29:21 = 3
  ram.set64(pt + 8 * 4, hi[3]!, 0x123000 | f(flags.pt));        // bits 20:12 = 4
  const gvaLo = ((2 << 30) | (3 << 21) | (4 << 12) | 0x567) >>> 0, gvaHi = 1 << 7;
  const r = regs({ cr0: CR0_PG | CR0_WP, cr3Lo: pml4, cr4: CR4_PAE, efer: EFER_LME | EFER_LMA | EFER_NXE });
  return { ram, r, gvaHi, gvaLo, pml4, pdpt, pd, pt };
}

test('no paging: identity, full protection', () => {
  const ram = new TestRam();
  const t = ok(walk(regs({}), ram.mem, 0, 0xfffff123, ACCESS_WRITE | ACCESS_USER));
  assert.equal(t.gpa, 0xfffff123);
  assert.equal(t.prot, ALL);
});

test('32-bit paging: 4 KiB pages, 4 MiB with CR4.PSE, PS ignored without it, PSE-36, reserved bit 21', () => {
  const ram = new TestRam();
  const pd = ram.table(), pt = ram.table();
  ram.set32(pd + 4 * 5, pt | P | RW | US);
  ram.set32(pt + 4 * 7, 0xabcde000 | P | US);
  ram.set32(pd + 4 * 6, 0x01800000 | P | RW | PS | (0x12 << 13));   // 4 MiB page, PSE-36 bits 39:32 = 0x12
  const r = regs({ cr0: CR0_PG | CR0_WP, cr3Lo: pd, cr4: CR4_PSE });
  const t = ok(walk(r, ram.mem, 0, (5 << 22) | (7 << 12) | 0x9ab, ACCESS_READ));
  assert.equal(t.gpa, 0xabcde9ab);
  assert.equal(t.prot, PROT_READ | PROT_EXEC | PROT_USER);
  const big = ok(walk(r, ram.mem, 0, (6 << 22) | 0x2345, ACCESS_WRITE));
  assert.equal(big.gpa, 0x12 * 2 ** 32 + 0x01802345);
  assert.equal(big.pageSize, 4 << 20);
  assert.equal(big.prot, PROT_READ | PROT_WRITE | PROT_EXEC);
  // MAXPHYADDR 36: only 4 high bits; 0x12 has bit 4 set -> reserved.
  bad(walk({ ...r, maxPhyAddr: 36 }, ram.mem, 0, (6 << 22), ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  // Without CR4.PSE the PS bit is ignored: the entry points to a page table at 0x01802000 (outside RAM).
  const noPse = walk({ ...r, cr4: 0 }, ram.mem, 0, (6 << 22), ACCESS_READ);
  assert.equal(noPse.ok ? 'ok' : noPse.kind, 'table-not-in-ram');
  ram.set32(pd + 4 * 6, 0x01800000 | P | PS | (1 << 21));
  bad(walk(r, ram.mem, 0, (6 << 22), ACCESS_WRITE | ACCESS_USER), 'reserved', PFEC_P | PFEC_RSVD | PFEC_W | PFEC_U);
  // Not present: error code has only the access bits; 32-bit paging has no NX so no I bit.
  bad(walk(r, ram.mem, 0, 9 << 22, ACCESS_FETCH | ACCESS_USER), 'not-present', PFEC_U);
});

test('PAE: 4 KiB and 2 MiB pages, PDPTE reserved bits, XD reserved without NXE, NX with NXE', () => {
  const ram = new TestRam();
  const pdpt = ram.table(), pd = ram.table(), pt = ram.table();
  ram.set64(pdpt + 8 * 1, 0, pd | P);
  ram.set64(pd + 8 * 2, 0, pt | P | RW | US);
  ram.set64(pt + 8 * 3, 0x5, 0x77000 | P | RW | US);
  ram.set64(pd + 8 * 4, XD, 0x00400000 | P | RW | PS);
  const r = regs({ cr0: CR0_PG | CR0_WP, cr3Lo: pdpt, cr4: CR4_PAE, efer: EFER_NXE });
  const gva = ((1 << 30) | (2 << 21) | (3 << 12) | 0x10) >>> 0;
  const t = ok(walk(r, ram.mem, 0, gva, ACCESS_WRITE | ACCESS_USER));
  assert.equal(t.gpa, 5 * 2 ** 32 + 0x77010);
  assert.equal(t.prot, ALL);
  const big = ((1 << 30) | (4 << 21) | 0x1234) >>> 0;
  const tb = ok(walk(r, ram.mem, 0, big, ACCESS_WRITE));
  assert.equal(tb.gpa, 0x401234);
  assert.equal(tb.prot, PROT_READ | PROT_WRITE);
  bad(walk(r, ram.mem, 0, big, ACCESS_FETCH), 'protection', PFEC_P | PFEC_I);
  bad(walk({ ...r, efer: 0 }, ram.mem, 0, big, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  ram.set64(pdpt + 8 * 1, 0, pd | P | RW);   // R/W is reserved in a PAE PDPTE
  bad(walk(r, ram.mem, 0, gva, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  bad(walk(r, ram.mem, 0, 0xc0000000, ACCESS_FETCH), 'not-present', PFEC_I);
});

test('4-level: 4 KiB, 2 MiB and 1 GiB pages, high-half addresses, canonical check', () => {
  const { ram, r, gvaHi, gvaLo, pdpt, pd } = long4();
  assert.equal(ok(walk(r, ram.mem, gvaHi, gvaLo, ACCESS_READ)).gpa, 0x123567);
  ram.set64(pd + 8 * 3, 0x7, 0x00600000 | P | RW | US | PS);
  const two = ok(walk(r, ram.mem, gvaHi, gvaLo, ACCESS_WRITE));
  assert.equal(two.gpa, 7 * 2 ** 32 + 0x600000 + ((4 << 12) | 0x567));
  assert.equal(two.pageSize, 2 << 20);
  ram.set64(pdpt + 8 * 2, 0x1, 0x40000000 | P | RW | US | PS);
  const one = ok(walk(r, ram.mem, gvaHi, gvaLo, ACCESS_WRITE));
  assert.equal(one.gpa, 2 ** 32 + 0x40000000 + ((3 << 21) | (4 << 12) | 0x567));
  assert.equal(one.pageSize, 1 << 30);
  ram.set64(pdpt + 8 * 2, 0x1, 0x40002000 | P | RW | US | PS);
  bad(walk(r, ram.mem, gvaHi, gvaLo, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  // Non-canonical -> #GP(0); the high half (0xffff8...) is canonical and walks PML4 slot 256.
  bad(walk(r, ram.mem, 0x00008000, 0, ACCESS_READ), 'non-canonical', 0, 13);
  bad(walk(r, ram.mem, 0xffff8000 | 0, 0, ACCESS_WRITE), 'not-present', PFEC_W);
});

test('4-level: reserved bits (PS in PML4E, bits above MAXPHYADDR, XD without NXE, 2 MiB bits 20:13)', () => {
  const t = long4();
  t.ram.set64(t.pml4 + 8, 0, t.pdpt | P | RW | US | PS);
  bad(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  const u = long4({ hi: [0, 0, 0, 0x100] });   // physical bit 40
  assert.equal(ok(walk(u.r, u.ram.mem, u.gvaHi, u.gvaLo, ACCESS_READ)).gpa, 2 ** 40 + 0x123567);
  bad(walk({ ...u.r, maxPhyAddr: 40 }, u.ram.mem, u.gvaHi, u.gvaLo, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  const x = long4({ hi: [0, XD, 0, 0] });
  bad(walk({ ...x.r, efer: EFER_LMA }, x.ram.mem, x.gvaHi, x.gvaLo, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
  const ec = walk({ ...x.r, efer: EFER_LMA }, x.ram.mem, x.gvaHi, x.gvaLo, ACCESS_READ);
  assert.match(ec.ok ? '' : ec.reason, /PDPTE at GPA 0x2010 .*reserved/);
  const two = long4();
  two.ram.set64(two.pd + 8 * 3, 0, 0x00600000 | P | PS | (1 << 13));
  bad(walk(two.r, two.ram.mem, two.gvaHi, two.gvaLo, ACCESS_READ), 'reserved', PFEC_P | PFEC_RSVD);
});

test('5-level (LA57): bits 56:48 index the PML5, canonical at bit 56', () => {
  const ram = new TestRam();
  const pml5 = ram.table(), pml4 = ram.table(), pdpt = ram.table(), pd = ram.table();
  ram.set64(pml5 + 8 * 0xab, 0, pml4 | P | RW | US);
  ram.set64(pml4 + 8 * 0x3, 0, pdpt | P | RW | US);
  ram.set64(pdpt + 8 * 0, 0, pd | P | RW | US);
  ram.set64(pd + 8 * 0, 0, 0x200000 | P | RW | US | PS);
  const r = regs({ cr0: CR0_PG, cr3Lo: pml5, cr4: CR4_PAE | CR4_LA57, efer: EFER_LMA });
  const hi = (0xab << 16) | (0x3 << 7);
  assert.equal(ok(walk(r, ram.mem, hi, 0x1234, ACCESS_READ)).gpa, 0x201234);
  // In 4-level mode the same address is non-canonical.
  bad(walk({ ...r, cr4: CR4_PAE }, ram.mem, hi, 0x1234, ACCESS_READ), 'non-canonical', 0, 13);
  bad(walk(r, ram.mem, 0x01000000, 0, ACCESS_READ), 'non-canonical', 0, 13);
  assert.equal(walk(r, ram.mem, 0xff000000 | 0, 0, ACCESS_READ).ok, false);
});

test('protection narrows along the walk; user accesses need U and (for writes) R/W everywhere', () => {
  const t = long4({ pdpt: P | US });   // read-only at one level
  const tr = ok(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_PROBE));
  assert.equal(tr.prot, PROT_READ | PROT_EXEC | PROT_USER);
  ok(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_USER));
  bad(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_USER | ACCESS_WRITE), 'protection', PFEC_P | PFEC_W | PFEC_U);
  // CR0.WP: supervisor writes to read-only pages fault only with WP=1.
  bad(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE), 'protection', PFEC_P | PFEC_W);
  ok(walk({ ...t.r, cr0: CR0_PG }, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE));
  const s = long4({ pt: P | RW });      // supervisor page
  assert.equal(ok(walk(s.r, s.ram.mem, s.gvaHi, s.gvaLo, ACCESS_PROBE)).prot, PROT_READ | PROT_WRITE | PROT_EXEC);
  bad(walk(s.r, s.ram.mem, s.gvaHi, s.gvaLo, ACCESS_USER), 'protection', PFEC_P | PFEC_U);
  bad(walk(s.r, s.ram.mem, s.gvaHi, s.gvaLo, ACCESS_USER | ACCESS_FETCH), 'protection', PFEC_P | PFEC_U | PFEC_I);
  // NX at the PML4 level forbids fetches below it.
  const n = long4({ hi: [XD, 0, 0, 0] });
  assert.equal(ok(walk(n.r, n.ram.mem, n.gvaHi, n.gvaLo, ACCESS_PROBE)).prot, PROT_READ | PROT_WRITE | PROT_USER);
  bad(walk(n.r, n.ram.mem, n.gvaHi, n.gvaLo, ACCESS_FETCH), 'protection', PFEC_P | PFEC_I);
});

test('SMEP and SMAP (with RFLAGS.AC and implicit accesses)', () => {
  const t = long4();   // user page
  const smep = { ...t.r, cr4: CR4_PAE | CR4_SMEP, efer: EFER_LMA };
  bad(walk(smep, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_FETCH), 'protection', PFEC_P | PFEC_I);
  ok(walk(smep, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_FETCH | ACCESS_USER));
  ok(walk(smep, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE));
  const smap = { ...t.r, cr4: CR4_PAE | CR4_SMAP };
  bad(walk(smap, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_READ), 'protection', PFEC_P);
  bad(walk(smap, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE), 'protection', PFEC_P | PFEC_W);
  const ac = { ...smap, rflags: 2 | RFLAGS_AC };
  ok(walk(ac, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE));
  bad(walk(ac, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_READ | ACCESS_IMPLICIT), 'protection', PFEC_P);
  ok(walk(smap, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_USER | ACCESS_WRITE));
  ok(walk(smap, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_FETCH));   // SMAP is about data accesses
});

test('Accessed/Dirty bits are set like hardware only when asked', () => {
  const t = long4();
  ok(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE));
  for (const e of [t.pml4 + 8, t.pdpt + 16, t.pd + 24, t.pt + 32]) assert.equal(t.ram.lo(e) & (A | D), 0);
  ok(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_READ | ACCESS_SET_AD));
  for (const e of [t.pml4 + 8, t.pdpt + 16, t.pd + 24, t.pt + 32]) assert.equal(t.ram.lo(e) & (A | D), A);
  ok(walk(t.r, t.ram.mem, t.gvaHi, t.gvaLo, ACCESS_WRITE | ACCESS_SET_AD));
  assert.equal(t.ram.lo(t.pt + 32) & D, D);
  assert.equal(t.ram.lo(t.pd + 24) & D, 0, 'D only in the leaf');
  const ro = long4({ pt: P | US });
  walk(ro.r, ro.ram.mem, ro.gvaHi, ro.gvaLo, ACCESS_WRITE | ACCESS_USER | ACCESS_SET_AD);
  assert.equal(ro.ram.lo(ro.pt + 32) & D, 0, 'no D on a refused write');
});

test('translateGva over a vCPU: throws TranslationError (EFAULT) with the fault record', () => {
  const t = long4();
  const cpu: GuestCpu = {
    getState: () => ({
      crs: { cr0: BigInt(t.r.cr0 >>> 0), cr2: 0n, cr3: BigInt(t.r.cr3Lo), cr4: BigInt(t.r.cr4), cr8: 0n, xcr0: 1n },
      msrs: { efer: BigInt(t.r.efer) } as never,
      gprs: { rflags: 2n } as never,
      segs: { cs: { dpl: 3 } } as never,
    }),
    setState: () => undefined,
    machine: { gpaToHost: (gpa) => (gpa < t.ram.bytes.length ? { memory: { bytes: t.ram.bytes }, offset: gpa, prot: 'rw' } : undefined) },
  };
  const gva = (BigInt(t.gvaHi) << 32n) | BigInt(t.gvaLo);
  assert.deepEqual(translateGva(cpu, gva), { gpa: 0x123567, prot: { read: true, write: true, exec: true, user: true } });
  assert.equal(translateGva(cpu, Number(gva), { write: true }).gpa, 0x123567);
  assert.throws(() => translateGva(cpu, 0x1000), (e: unknown) =>
    e instanceof TranslationError && e.code === 'EFAULT' && /PML4E .* not present/.test(e.message) && e.fault.errorCode === 0);
  t.ram.set64(t.pt + 32, 0, 0x123000 | P | RW);
  assert.throws(() => translateGva(cpu, gva, { write: true }), (e: unknown) =>
    e instanceof TranslationError && e.fault.errorCode === (PFEC_P | PFEC_W | PFEC_U));
  assert.throws(() => translateGva(cpu, 1.5), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
  // 0xffff800000000000 as an unsigned number, a signed number and a bigint are the same address.
  for (const g of [0xffff800000000000, -(2 ** 47), 0xffff800000000000n]) {
    assert.throws(() => translateGva(cpu, g), (e: unknown) => e instanceof TranslationError && /ffff8000_00000000/.test(e.message));
  }
});
