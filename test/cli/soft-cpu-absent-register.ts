/** `node --import` this to install soft-cpu-absent-hooks.ts (see there). */
import { register } from 'node:module';

register('./soft-cpu-absent-hooks.js', import.meta.url);
