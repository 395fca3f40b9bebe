/**
 * The shared-memory protocol between toyvirt's vCPU loop and its event thread: the event thread
 * posts requests into a small ring in a SharedArrayBuffer and stops the vCPU; the vCPU loop takes
 * them out and injects. The vCPU loop publishes the guest's CR8 (from each exit) so that the event
 * thread sends hardware interrupts only while the guest accepts them.
 */

/** What the event thread asks for, in the order it asks (then again from the start). */
export const EVENT_KINDS = ['gp', 'nmi', 'interrupt'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Int32 slots of the SharedArrayBuffer. */
export const SLOT = {
  /** Requests posted so far. */
  POSTED: 0,
  /** The guest's CR8 as of the last exit. */
  CR8: 1,
  /** Set by the vCPU loop when the event thread must exit. */
  QUIT: 2,
  /** Set by the event thread when it failed (it then exits). */
  FAILED: 3,
  /** Requests the vCPU loop has taken (the ring holds POSTED - TAKEN of them). */
  TAKEN: 4,
  /** Set by the event thread once its code runs (a worker that fails to load never sets it). */
  STARTED: 5,
  /** First slot of the ring of posted kinds (indexes into EVENT_KINDS). */
  RING: 6,
} as const;
export const RING_SIZE = 8;
export const SHARED_BYTES = (SLOT.RING + RING_SIZE) * 4;

/** The guest takes hardware interrupts only below this CR8 (smallkern raises CR8 to 15 to stop them). */
export const CR8_BLOCKS_INTERRUPTS = 15;

/** How long the vCPU loop waits for a worker that has not started before giving up. */
export const START_TIMEOUT_MS = 10_000;
