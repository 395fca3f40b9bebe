/**
 * The two-byte opcode map (0F xx; Intel SDM vol. 2, Appendix A, table A-3) as data, and the
 * three-byte maps 0F 38 and 0F 3A. General-purpose and system instructions are decoded fully;
 * SSE/MMX forms are decoded for length and memory operand under the generic 'sse': their
 * operands depend on the mandatory prefix and mod in ways the SSE layer (src/x86/sse) keeps as
 * its own table, which names them (vectorFormName) and runs them. 3DNow! is '3dnow'.
 */
import type { EntrySource } from './opcode-entry.js';
import { byPrefix, byRm, group, opcodeMap } from './opcode-entry.js';
import { CONDITION_CODES } from './map-one-byte.js';

/** A generic SSE/MMX form: ModRM, no immediate. */
const SSE = 'sse W';
/** A generic SSE/MMX form with an imm8 (PSHUF*, shifts by immediate, CMPPS, PINSRW...). */
const SSE_IB = 'sse W,Ib';

function run(text: EntrySource, n: number): EntrySource[] {
  return Array<EntrySource>(n).fill(text);
}

/** Group 6 (0F 00): LDT/TR/verify. */
const GROUP6 = group(['sldt Er', 'str Er', 'lldt Ew', 'ltr Ew', 'verr Ew', 'verw Ew', null, null]);

/** Group 7 (0F 01): descriptor tables in memory forms; VMX/SVM/misc by ModRM.rm in register forms. */
const GROUP7 = group(
  ['sgdt Ms', 'sidt Ms', 'lgdt Ms', 'lidt Ms', 'smsw Er', byPrefix(null, null, 'rstorssp Mq', null), 'lmsw Ew', 'invlpg Mb'],
  [
    byRm(['enclv', 'vmcall', 'vmlaunch', 'vmresume', 'vmxoff', 'pconfig', 'wrmsrns', null]),
    byRm(['monitor', 'mwait', 'clac', 'stac', null, null, null, 'encls']),
    byRm(['xgetbv', 'xsetbv', null, null, 'vmfunc', 'xend', 'xtest', 'enclu']),
    byRm(['vmrun', 'vmmcall', 'vmload', 'vmsave', 'stgi', 'clgi', 'skinit', 'invlpga']),
    'smsw Er',
    byRm([byPrefix('serialize', null, 'setssbsy', null), null, byPrefix(null, null, 'saveprevssp', null), null, null, null,
      'rdpkru', 'wrpkru']),
    'lmsw Ew',
    byRm(['swapgs @o64', 'rdtscp', 'monitorx', 'mwaitx', 'clzero', 'rdpru', 'invlpgb', 'tlbsync']),
  ],
);

/** Group 8 (0F BA): bit tests with an imm8. */
const GROUP8 = group([null, null, null, null, 'bt Ev,Ib', 'bts Ev,Ib @lk', 'btr Ev,Ib @lk', 'btc Ev,Ib @lk']);

/** Group 9 (0F C7): CMPXCHG8B/16B and VMX pointers in memory; RDRAND/RDSEED/RDPID in registers. */
const GROUP9 = group(
  [null, 'cmpxchg8b/cmpxchg8b/cmpxchg16b Mc @lk', null, 'xrstors M', 'xsavec M', 'xsaves M',
    byPrefix('vmptrld Mq', 'vmclear Mq', 'vmxon Mq', null), 'vmptrst Mq'],
  [null, null, null, null, null, null, byPrefix('rdrand Rv', 'rdrand Rv', 'senduipi Rq', null),
    byPrefix('rdseed Rv', 'rdseed Rv', 'rdpid Ry @nat', null)],
);

/** Group 15 (0F AE): FXSAVE & co. in memory; FS/GS base access and fences in registers. */
const GROUP15 = group(
  ['fxsave M', 'fxrstor M', 'ldmxcsr Md', 'stmxcsr Md', 'xsave M', 'xrstor M', 'xsaveopt M', 'clflush Mb'],
  [
    byPrefix(null, null, 'rdfsbase Ry', null), byPrefix(null, null, 'rdgsbase Ry', null),
    byPrefix(null, null, 'wrfsbase Ry', null), byPrefix(null, null, 'wrgsbase Ry', null),
    null, 'lfence', 'mfence', 'sfence',
  ],
);

/** VIA PadLock (0F A6 / 0F A7 with ModRM C0..E8), usually with REP. */
const PADLOCK_A6 = group(Array<EntrySource>(8).fill(null),
  [byRm(['montmul', null, null, null, null, null, null, null]), byRm(['xsha1', null, null, null, null, null, null, null]),
    byRm(['xsha256', null, null, null, null, null, null, null]), null, null, null, null, null]);
const PADLOCK_A7 = group(Array<EntrySource>(8).fill(null),
  ['xstore', 'xcrypt-ecb', 'xcrypt-cbc', 'xcrypt-ctr', 'xcrypt-cfb', 'xcrypt-ofb', null, null]
    .map((n) => (n === null ? null : byRm([n, null, null, null, null, null, null, null]))));

/** 0F 0D and 0F 18: prefetch hints in memory forms; the register forms are hint NOPs. */
const PREFETCH = group(run('prefetch Mb', 8), run('nop Ev', 8));

/** 0F 1E: a hint NOP, except the CET forms under F3 (NOPs too while CET is off). */
const NOP = 'nop Ev';
const HINT_NOP_1E = byPrefix(NOP, NOP, group(run(NOP, 8), [NOP, 'rdsspd/rdsspd/rdsspq Ry', NOP, NOP, NOP, NOP, NOP,
  byRm([NOP, NOP, 'endbr64', 'endbr32', NOP, NOP, NOP, NOP])]), NOP);

const SOURCE_0F: EntrySource[] = [
  // 00-0F
  GROUP6, GROUP7, 'lar Gv,Er', 'lsl Gv,Er', null, 'syscall', 'clts', 'sysret',
  'invd', 'wbinvd', null, 'ud2', null, PREFETCH, 'femms', '3dnow W,Ib',
  // 10-1F: SSE moves, prefetch hints (group 16), hint NOPs (0F 1E FA with F3 is ENDBR64)
  ...run(SSE, 8), PREFETCH, ...run('nop Ev', 5), HINT_NOP_1E, 'nop Ev',
  // 20-2F
  'mov Rv,Cv @ocr', 'mov Rv,Dv @ocr', 'mov Cv,Rv @ocr', 'mov Dv,Rv @ocr', null, null, null, null,
  ...run(SSE, 8),
  // 30-3F (38 and 3A are the three-byte escapes, handled before this table)
  'wrmsr', 'rdtsc', 'rdmsr', 'rdpmc', 'sysenter', 'sysexit', null, 'getsec',
  null, null, null, null, null, null, null, null,
  // 40-4F
  ...CONDITION_CODES.map((cc) => `cmov${cc} Gv,Ev`),
  // 50-7F
  ...run(SSE, 32),
  SSE_IB, SSE_IB, SSE_IB, SSE_IB, SSE, SSE, SSE, 'emms',
  byPrefix('vmread Ey,Gy @nat', 'extrq W,Ib,Ib', null, 'insertq W,Ib,Ib'),
  byPrefix('vmwrite Gy,Ey @nat', 'extrq W', null, 'insertq W'),
  null, null, SSE, SSE, SSE, SSE,
  // 80-8F
  ...CONDITION_CODES.map((cc) => `j${cc} Jz @f64`),
  // 90-9F
  ...CONDITION_CODES.map((cc) => `set${cc} Eb`),
  // A0-AF
  'push FS @d64', 'pop FS @d64', 'cpuid', 'bt Ev,Gv', 'shld Ev,Gv,Ib', 'shld Ev,Gv,CL', PADLOCK_A6, PADLOCK_A7,
  'push GS @d64', 'pop GS @d64', 'rsm', 'bts Ev,Gv @lk', 'shrd Ev,Gv,Ib', 'shrd Ev,Gv,CL', GROUP15, 'imul Gv,Ev',
  // B0-BF
  'cmpxchg Eb,Gb @lk', 'cmpxchg Ev,Gv @lk', 'lss Gv,Mp', 'btr Ev,Gv @lk', 'lfs Gv,Mp', 'lgs Gv,Mp',
  'movzx Gv,Eb', 'movzx Gv,Ew',
  byPrefix(null, null, 'popcnt Gv,Ev', null), 'ud1 Gv,Ev', GROUP8, 'btc Ev,Gv @lk',
  byPrefix('bsf Gv,Ev', 'bsf Gv,Ev', 'tzcnt Gv,Ev', 'bsf Gv,Ev'),
  byPrefix('bsr Gv,Ev', 'bsr Gv,Ev', 'lzcnt Gv,Ev', 'bsr Gv,Ev'),
  'movsx Gv,Eb', 'movsx Gv,Ew',
  // C0-CF
  'xadd Eb,Gb @lk', 'xadd Ev,Gv @lk', SSE_IB, 'movnti My,Gy', SSE_IB, SSE_IB, SSE_IB, GROUP9,
  ...run('bswap Zv', 8),
  // D0-FF
  ...run(SSE, 47), 'ud0 Gv,Ev',
];

export const TWO_BYTE_MAP = opcodeMap(SOURCE_0F);

/** 0F 38: every form has a ModRM and no immediate; the general-purpose ones are named. */
const SOURCE_0F38: EntrySource[] = run(SSE, 256);
SOURCE_0F38[0xf0] = byPrefix('movbe Gv,Mv', 'movbe Gv,Mv', null, 'crc32 Gy,Eb');
SOURCE_0F38[0xf1] = byPrefix('movbe Mv,Gv', 'movbe Mv,Gv', null, 'crc32 Gy,Ev');
SOURCE_0F38[0xf6] = byPrefix('wrss My,Gy', 'adcx Gy,Ey @n66', 'adox Gy,Ey', null);
export const MAP_0F38 = opcodeMap(SOURCE_0F38);

/** 0F 3A: every form has a ModRM and an imm8. */
export const MAP_0F3A = opcodeMap(run(SSE_IB, 256));
