/** `node --import` this to install kvm-load-failure-hooks.ts (see there). */
import { register } from 'node:module';

register('./kvm-load-failure-hooks.js', import.meta.url);
