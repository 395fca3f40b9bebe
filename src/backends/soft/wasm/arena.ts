/**
 * Guest RAM as a WebAssembly.Memory, so compiled wasm blocks (block-wasm.ts) read and write it
 * directly, with an arena after the RAM holding, per vCPU, what a block touches besides RAM: the
 * register file, segment bases and limits, the TLB's probe tags and addresses, the flag record
 * and scratch values (one memory per module is all wasm here offers, so they share it).
 *
 * The RAM is the memory's first `size` bytes; the arena starts at the next 64 KiB page. Memories
 * whose RAM and arena would not fit the 4 GiB of a wasm memory stay plain SharedArrayBuffers (their
 * vCPUs keep the JS tiers).
 */

import { TLB_SIZE } from '../tlb.js';
import { JUMP_BYTES } from './chain.js';

const PAGE = 65536;
/** Bytes of a slot before its TLB mirror (block-wasm.ts: registers, segments, flag record, scratch). */
export const ARENA_TLB = 1024;
/** Where a slot's pair probe arrays begin (tlb.ts TlbMirror): after the mirror's five arrays of TLB_SIZE doubles. */
export const ARENA_PAIRS = ARENA_TLB + 5 * 8 * TLB_SIZE;
/** Where a slot's chain jump cache (chain.ts) begins: after the six pair arrays of TLB_SIZE int32s. */
export const ARENA_JUMP = ARENA_PAIRS + 6 * 4 * TLB_SIZE;
/** Bytes of one vCPU's arena slot (layout: block-wasm.ts), whole 64 KiB pages. */
export const ARENA_SLOT = Math.ceil((ARENA_JUMP + JUMP_BYTES) / PAGE) * PAGE;
/** vCPU slots per memory: a vCPU without one keeps the JS tiers. */
export const ARENA_SLOTS = 16;
const MAX_PAGES = 65536;

export interface WasmRam {
  readonly memory: WebAssembly.Memory;
  /** Byte address of the first arena slot. */
  readonly arenaBase: number;
  /** Slots handed out so far. */
  used: number;
}

const byBuffer = new WeakMap<ArrayBufferLike, WasmRam>();

/** size bytes of zeroed guest RAM in a shared wasm memory with an arena, or undefined if it cannot be one. */
export function allocateWasmRam(size: number): Uint8Array | undefined {
  const ramPages = Math.ceil(size / PAGE);
  const pages = ramPages + Math.ceil((ARENA_SLOTS * ARENA_SLOT) / PAGE);
  if (pages > MAX_PAGES || typeof WebAssembly === 'undefined') return undefined;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return undefined;
  }
  const buffer = memory.buffer;
  byBuffer.set(buffer, { memory, arenaBase: ramPages * PAGE, used: 0 });
  return new Uint8Array(buffer, 0, size);
}

/** The wasm memory holding buffer, if guest RAM was allocated as one here. */
export function wasmRamOf(buffer: ArrayBufferLike): WasmRam | undefined {
  return byBuffer.get(buffer);
}

/** A free arena slot's byte address in ram, or undefined when all are taken. */
export function takeArenaSlot(ram: WasmRam): number | undefined {
  if (ram.used >= ARENA_SLOTS) return undefined;
  return ram.arenaBase + ARENA_SLOT * ram.used++;
}
