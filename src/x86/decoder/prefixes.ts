/**
 * Legacy and REX prefix scanning. The state lives in one reused object (the decoder is
 * synchronous and not re-entrant), so scanning allocates nothing.
 */
import type { CodeMode } from '../instruction.js';
import type { ByteCursor } from './cursor.js';

const OPSIZE = 1, ADDRSIZE = 2, LOCK = 3, REPNE = 4, REP = 5, SEG = 8;

/** Prefix kind per byte: 0 = not a legacy prefix. Segment overrides are SEG + segment number. */
const PREFIX_KIND = new Uint8Array(256);
PREFIX_KIND[0x66] = OPSIZE;
PREFIX_KIND[0x67] = ADDRSIZE;
PREFIX_KIND[0xf0] = LOCK;
PREFIX_KIND[0xf2] = REPNE;
PREFIX_KIND[0xf3] = REP;
PREFIX_KIND[0x26] = SEG + 0;
PREFIX_KIND[0x2e] = SEG + 1;
PREFIX_KIND[0x36] = SEG + 2;
PREFIX_KIND[0x3e] = SEG + 3;
PREFIX_KIND[0x64] = SEG + 4;
PREFIX_KIND[0x65] = SEG + 5;

export interface PrefixState {
  opsize: boolean;
  addrsize: boolean;
  lock: boolean;
  rep: 0 | 0xf2 | 0xf3;
  /** The segment override in effect (the last one; in 64-bit mode the last FS/GS), or -1. */
  seg: number;
  /** The REX byte in effect (0 if none, or if a legacy prefix followed it). */
  rex: number;
}

export const prefixes: PrefixState = { opsize: false, addrsize: false, lock: false, rep: 0, seg: -1, rex: 0 };

/** Consumes all prefixes; returns the first non-prefix byte (already consumed). */
export function scanPrefixes(c: ByteCursor, mode: CodeMode): number {
  const p = prefixes;
  p.opsize = false;
  p.addrsize = false;
  p.lock = false;
  p.rep = 0;
  p.seg = -1;
  p.rex = 0;
  let b = c.u8();
  for (;;) {
    const k = PREFIX_KIND[b];
    if (k !== 0) {
      // A REX prefix only counts when it is the last prefix before the opcode.
      p.rex = 0;
      // In 64-bit mode ES/CS/SS/DS overrides are null prefixes (AMD APM 1.2.4): they neither
      // take effect nor cancel an earlier FS/GS override.
      if (k >= SEG) { if (mode !== 64 || k >= SEG + 4) p.seg = k - SEG; }
      else if (k === OPSIZE) p.opsize = true;
      else if (k === ADDRSIZE) p.addrsize = true;
      else if (k === LOCK) p.lock = true;
      else p.rep = k === REP ? 0xf3 : 0xf2;
    } else if (mode === 64 && (b & 0xf0) === 0x40) {
      p.rex = b;
    } else return b;
    b = c.u8();
  }
}

/** Whether 66, F2, F3, F0 or a REX prefix precedes the opcode (VEX/EVEX/XOP raise #UD then). */
export function hasVexForbiddenPrefix(): boolean {
  const p = prefixes;
  return p.opsize || p.lock || p.rep !== 0 || p.rex !== 0;
}
