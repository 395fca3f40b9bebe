/**
 * assistIo: completes an I/O exit the way the CPU would have.
 *
 * IN/OUT: one handler call; IN merges the value into AL/AX or writes EAX (zero-extended); RIP = npc.
 * No decode and, for OUT, no getState at all: the exit carries port, size and data.
 *
 * INS/OUTS (str): the instruction at CS:RIP is decoded (src/x86/decoder) for its address size
 * and segment override (OUTS; INS always writes ES:rDI). The handler is called once per element,
 * in order. Batching: the element loop runs in numbers, guest pages are translated once per page
 * (ElementCopier), and the registers are written back once at the end. REP runs up to
 * IO_REP_BUDGET elements per call; if rCX is not 0 then, RIP stays on the instruction and the
 * guest re-executes it (as after an interrupt on hardware), so a huge count never blocks the host.
 * A #PF on the memory operand: the elements done so far are committed, RIP stays, and an
 * AssistFault (vector, errorCode, cr2) is thrown for the caller to inject.
 *
 * Exits with backendCompletes (KVM: the kernel's emulator finishes the instruction on the next
 * run; soft: IN/OUT, finished by the soft vCPU at the next run, src/backends/soft/exit-completion.ts):
 * only the data is exchanged, one handler call per element of exit.data (on KVM it aliases the
 * backend's buffer); no getState/setState, no memory access. Either way the instruction is
 * complete once the next run() starts (on soft, INS/OUTS already when this returns), and a
 * setState before that run() completes it first, then applies the caller's values.
 */
import { State, type Gprs, type IoExit, type IoHandler, type VmExit } from '../../api/types.js';
import { VmmError, hex } from '../../api/errors.js';
import { decode } from '../decoder/index.js';
import { SEG_DS, SEG_ES } from '../instruction.js';
import type { GuestCpu } from '../mmu/guest-cpu.js';
import { GuestLinear } from './guest-linear.js';
import { ElementCopier } from './element-copy.js';
import { codeModeOf, cplOf, stateOf } from './cpu-view.js';

export const IO_REP_BUDGET = 65536;
const DF = 1n << 10n;

export function assistIo(cpu: GuestCpu, exit: VmExit, handler: IoHandler): void {
  if (exit.reason !== 'io') throw new VmmError('EINVAL', `assistIo needs an 'io' exit, got '${exit.reason}'`);
  if (exit.size !== 1 && exit.size !== 2 && exit.size !== 4) throw new VmmError('EINVAL', `io exit size ${exit.size} is not 1, 2 or 4`);
  if ((exit as CompletedByBackend).backendCompletes) exchangeOnly(exit, handler);
  else if (exit.str) stringIo(cpu, exit, handler);
  else if (exit.in) portIn(cpu, exit, handler);
  else {
    handler({ port: exit.port, in: false, size: exit.size, data: exit.data.slice(0, exit.size) });
    cpu.setState({ gprs: { rip: exit.npc } }, State.GPRS);
  }
}

/** The fields a backend that completes instructions itself adds to io/memory exits (see api/types.ts). */
export interface CompletedByBackend { backendCompletes?: boolean; data?: Uint8Array }

function exchangeOnly(exit: IoExit, handler: IoHandler): void {
  const { size, data } = exit;
  if (data.length % size !== 0 || data.length === 0) throw new VmmError('EINVAL', `io exit data of ${data.length} bytes is not whole ${size}-byte elements`);
  if (data.length === size) handler({ port: exit.port, in: exit.in, size, data });
  else for (let at = 0; at < data.length; at += size) handler({ port: exit.port, in: exit.in, size, data: data.subarray(at, at + size) });
}

function portIn(cpu: GuestCpu, exit: IoExit, handler: IoHandler): void {
  const data = new Uint8Array(exit.size);
  handler({ port: exit.port, in: true, size: exit.size, data });
  const { gprs } = stateOf(cpu, State.GPRS, ['gprs']);
  const v = BigInt(data[0]! | (exit.size > 1 ? data[1]! << 8 : 0)) | (exit.size === 4 ? BigInt(data[2]! | (data[3]! << 8)) << 16n : 0n);
  const keep = exit.size === 4 ? 0n : gprs.rax & ~((1n << BigInt(exit.size * 8)) - 1n);
  cpu.setState({ gprs: { rax: keep | v, rip: exit.npc } }, State.GPRS);
}

function stringIo(cpu: GuestCpu, exit: IoExit, handler: IoHandler): void {
  const { gprs, segs } = stateOf(cpu, State.GPRS | State.SEGS, ['gprs', 'segs']);
  const mode = codeModeOf(segs);
  const lin = new GuestLinear(cpu, gprs, segs, mode, cplOf(segs));
  const rip = Number(mode === 64 ? BigInt.asIntN(64, gprs.rip) : gprs.rip & 0xffffffffn);
  const insn = decode(lin.fetch(rip), mode);
  const mn = insn.mnemonic;
  if ((mn !== 'ins' && mn !== 'outs') || (mn === 'ins') !== exit.in) {
    throw new VmmError('EINVAL', `string io exit (${exit.in ? 'in' : 'out'}) but the instruction at RIP ${hex(rip)} is '${mn}'`);
  }
  const size = exit.size, bits = BigInt(insn.addrSize * 8), mask = (1n << bits) - 1n;
  const indexName: keyof Gprs = exit.in ? 'rdi' : 'rsi';
  const seg = exit.in ? SEG_ES : insn.segOverride >= 0 ? insn.segOverride : SEG_DS;
  const rep = insn.rep !== 0;
  const count = rep ? gprs.rcx & mask : 1n;
  const todo = Number(count > BigInt(IO_REP_BUDGET) ? BigInt(IO_REP_BUDGET) : count);
  const down = (gprs.rflags & DF) !== 0n;
  const start = Number(insn.addrSize === 8 ? BigInt.asIntN(64, gprs[indexName]) : gprs[indexName] & mask);
  const wrap = insn.addrSize === 8 ? (x: number) => x : insn.addrSize === 4 ? (x: number) => x >>> 0 : (x: number) => x & 0xffff;
  const copier = new ElementCopier(lin);
  let done = 0;
  const commit = (): void => {
    const moved = BigInt(done * size) * (down ? -1n : 1n);
    const merge = (old: bigint, v: bigint): bigint => (insn.addrSize === 8 ? BigInt.asUintN(64, v) : insn.addrSize === 4 ? v & mask : (old & ~mask) | (v & mask));
    const out: Partial<Gprs> = { [indexName]: merge(gprs[indexName], gprs[indexName] + moved) };
    if (rep) out.rcx = merge(gprs.rcx, (gprs.rcx & mask) - BigInt(done));
    if (!rep || count === BigInt(done)) out.rip = exit.npc;
    cpu.setState({ gprs: out }, State.GPRS);
  };
  try {
    for (; done < todo; done++) {
      const offset = wrap(start + (down ? -done : done) * size);
      lin.checkLimit(seg, offset, size);
      const linear = lin.linear(seg, offset);
      const data = new Uint8Array(size);
      if (exit.in) {
        handler({ port: exit.port, in: true, size, data });
        copier.copy(linear, data, size, true);
      } else {
        copier.copy(linear, data, size, false);
        handler({ port: exit.port, in: false, size, data });
      }
    }
  } catch (e) {
    if (done > 0) commit();
    throw e;
  }
  commit();
}
