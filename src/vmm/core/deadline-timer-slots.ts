/** The deadline timer's shared control words (deadline-timer.ts and its worker). */
export const TIMER_SLOT = { GENERATION: 0, QUIT: 1, STARTED: 2, FAILED: 3 } as const;
export const TIMER_WORDS = 4;
