/**
 * The deadline timer's shared control words (deadline-timer.ts and its worker). GENERATION wakes
 * the timer thread (bumped by a new deadline, a kick and quit); KICKS counts kicks from other
 * threads (vcpu-kick.ts), kept apart from the deadline so that neither write can undo the other.
 */
export const TIMER_SLOT = { GENERATION: 0, QUIT: 1, STARTED: 2, FAILED: 3, KICKS: 4 } as const;
export const TIMER_WORDS = 5;
