/**
 * A soft CPU in 32-bit flat protected mode (paging off) that runs one x87 instruction at a time
 * straight through the system layer, for differential tests against the native oracle: the same
 * case format in (FRSTOR image, memory window at EDI, RFLAGS), the same results out.
 */
import { SoftCpu } from '../../src/backends/soft/cpu.js';
import { PhysMemory } from '../../src/backends/soft/memory.js';
import { ATTR_DEF, ATTR_G, ATTR_P, ATTR_S, CR0_NE, CR0_PE } from '../../src/backends/soft/state.js';
import { executeSystem } from '../../src/backends/soft/system.js';
import { loadSave, storeSave } from '../../src/x86/x87-exec/env-image.js';
import { decode } from '../../src/x86/decoder/index.js';
import { X86Fault } from '../../src/x86/exec/context.js';
import { MEM_BYTES, type X87Case, type X87Result } from './x87-oracle.js';

const MEM = 0x1000;
const LAYOUT = { wide: true, real: false };

export class SoftX87 {
  readonly ram = new Uint8Array(0x10000);
  readonly cpu: SoftCpu;

  constructor() {
    const phys = new PhysMemory();
    phys.map(0, { bytes: this.ram, size: this.ram.length }, 0, this.ram.length, 'rwx');
    const cpu = new SoftCpu(phys);
    cpu.cr0 |= CR0_PE | CR0_NE;
    for (let s = 0; s < 6; s++) {
      cpu.segBase[s] = 0;
      cpu.segLimit[s] = 0xffffffff;
      cpu.segAttr[s] = ATTR_P | ATTR_S | ATTR_DEF | ATTR_G | (s === 1 ? 0xb : 3);
    }
    cpu.updateMode();
    cpu.cpuidConf.set(1, { set: { ecx: 1 } }); // SSE3, for FISTTP
    this.cpu = cpu;
  }

  run(c: X87Case): X87Result {
    const cpu = this.cpu;
    loadSave(cpu, c.img, LAYOUT);
    cpu.flags = c.rflags;
    this.ram.set(c.mem, MEM);
    cpu.regs.fill(0);
    cpu.regs[14] = MEM; // EDI
    cpu.setRip(0x8000);
    let insn;
    try {
      insn = decode(c.code, 32, 0);
    } catch {
      return { fault: 'UD' }; // the soft CPU raises #UD for undecodable bytes (cpu.ts decodeFailed)
    }
    try {
      executeSystem(cpu, insn);
    } catch (e) {
      if (!(e instanceof X86Fault)) throw e;
      return { fault: e.vector === 16 ? 'MF' : e.vector === 6 ? 'UD' : 'SEGV' };
    }
    return {
      fault: undefined,
      img: storeSave(cpu, LAYOUT, { fcs: 0, fds: 0, csBase: 0, dsBase: 0 }),
      mem: this.ram.slice(MEM, MEM + MEM_BYTES),
      rax: cpu.regs[0]! >>> 0,
      rflags: cpu.flags,
    };
  }
}
