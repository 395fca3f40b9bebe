/**
 * Child process for list.test.ts: creates one machine (backend from argv[2]: kvm, soft, or fake
 * for the in-test fake backend when no real one runs here) with 2 vCPUs and 3 pages of RAM,
 * prints its id, and stays alive until killed.
 */
import { Hypervisor } from '../../src/index.js';
import { fakeBackend } from '../frontend/fake-backend.js';

const which = process.argv[2] ?? 'fake';
const hv = which === 'fake' ? Hypervisor.fromBackend(fakeBackend()) : Hypervisor.open({ backend: which as 'kvm' | 'soft' });
const m = hv.createMachine();
m.map(0, m.allocate(0x3000));
m.createVcpu(0);
m.createVcpu(1);
console.log(JSON.stringify({ id: m.id }));
setInterval(() => {}, 1 << 30);
