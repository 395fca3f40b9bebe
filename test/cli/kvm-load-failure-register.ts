/**
 * `node --import` this for no-kvm.test.ts: the KVM backend's libc binding fails to load, as on a
 * host without glibc, to check that tsvisor still imports and 'auto' falls back to the soft backend.
 */
import { register } from 'node:module';
import type { StubData } from './module-stub-hooks.js';

const data: StubData = { suffix: '/backends/kvm/libc.js', source: "throw new Error('simulated: libc.so.6 cannot be loaded');" };
register('./module-stub-hooks.js', { parentURL: import.meta.url, data });
