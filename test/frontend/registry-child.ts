/**
 * Child process for registry.test.ts: creates N machines on the fake backend (argv[2]), maps RAM
 * and adds a vCPU to the first, prints the ids as one JSON line, then stays alive until killed
 * (or, with argv[3] = 'exit', exits at once without destroying anything).
 */
import { Hypervisor } from '../../src/index.js';
import { fakeBackend } from './fake-backend.js';

const hv = Hypervisor.fromBackend(fakeBackend());
const n = Number(process.argv[2] ?? '1');
const ms = Array.from({ length: n }, () => hv.createMachine());
ms[0]!.map(0, ms[0]!.allocate(0x3000));
ms[0]!.createVcpu(0);
ms[0]!.createVcpu(1);
console.log(JSON.stringify(ms.map((m) => m.id)));
if (process.argv[3] !== 'exit') setInterval(() => {}, 1 << 30);
