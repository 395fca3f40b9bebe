/**
 * The conformance guests and how to run and compare each (guests/conf-*.S). Every guest in
 * guests/ whose name starts with conf- must be listed here (the suite checks it).
 */
import type { GuestSpec } from './harness.js';

export const CONFORMANCE_GUESTS: GuestSpec[] = [
  { name: 'conf-arith', start: 'long-user', end: 'shutdown', load: 0x10000, compare: [[0x20000, 64]] },
  { name: 'conf-string', start: 'long-user', end: 'shutdown', load: 0x10000, compare: [[0x20000, 0x4000]] },
  { name: 'conf-exceptions', start: 'long-kernel', load: 0x10000, compare: [[0x40000, 0x1000]] },
  { name: 'conf-paging', start: 'long-kernel', load: 0x10000, compare: [[0x50000, 0x6000], [0x60000, 0x4000]] },
  { name: 'conf-system', start: 'long-kernel', load: 0x10000, compare: [[0x30000, 0x300]] },
  { name: 'conf-modes', start: 'real', load: 0x1000, compare: [[0x30000, 0x40], [0x10000, 0x3000]] },
];
