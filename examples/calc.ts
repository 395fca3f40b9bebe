/**
 * The tsvisor API in one page (NVMM's calc-vm): create a machine, map a ROM page holding the
 * reset vector, start a vCPU from the x86 reset state with the operands in RAX and RBX, run it
 * to HLT, and read the sum back. guests/calc.S is the guest (build it with `npm run guests`).
 *
 *   npm run build && npm run guests && node dist/examples/calc.js 3 5
 */
import { readFileSync } from 'node:fs';
import { Hypervisor, State, resetState } from 'tsvisor';

const toBigInt = (s: string): bigint | undefined => (/^(0x[0-9a-f]+|\d+)$/i.test(s) ? BigInt(s) : undefined);
const [a, b] = process.argv.slice(2).map(toBigInt) as [bigint | undefined, bigint | undefined];
const isUint32 = (v: bigint | undefined): boolean => v !== undefined && v >= 0n && v <= 0xffffffffn;
if (!isUint32(a) || !isUint32(b)) {
  console.error('usage: node dist/examples/calc.js <a> <b>   (uint32 operands)');
  process.exit(2);
}

const rom = readFileSync(new URL('../../guests/build/calc.bin', import.meta.url));

const hv = Hypervisor.open({ backend: 'auto' });   // KVM when usable, else the soft CPU
const machine = hv.createMachine();
const mem = machine.allocate(0x1000);
mem.bytes.set(rom);
machine.map(0xfffff000, mem, { prot: 'rx' });      // the page holding the reset vector 0xFFFFFFF0

const cpu = machine.createVcpu(0);
const reset = resetState();                         // real mode, CS base 0xFFFF0000, IP 0xFFF0
cpu.setState({ ...reset, gprs: { ...reset.gprs, rax: a!, rbx: b!, rdx: 0n } });

const exit = cpu.run();
if (exit.reason !== 'halted') throw new Error(`guest stopped with exit '${exit.reason}'`);
const { rbx, rdx } = cpu.getState(State.GPRS).gprs!;
console.log(`Result: ${((rdx & 0xffffffffn) << 32n) | (rbx & 0xffffffffn)} (backend ${hv.backend})`);
hv.close();
