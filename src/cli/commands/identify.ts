/** `tsvisor identify [--json] [--backend]`: what the hypervisor offers, as nvmmctl identify. */
import { Command } from 'commander';
import type { BackendChoice } from '../../api/types.js';
import { hex } from '../../api/errors.js';
import { Hypervisor } from '../../frontend/hypervisor.js';
import { effectiveChoice, kvmPassedOver } from '../../frontend/backend-select.js';
import { backendOption } from '../backend-option.js';
import { humanBytes, xcr0Names } from '../format.js';

export function identifyCommand(): Command {
  return new Command('identify')
    .description('show the API version, limits and capabilities of the backend in use')
    .option('--json', 'print one JSON object')
    .addOption(backendOption())
    .action((opts: { json?: boolean; backend: BackendChoice }) => {
      const hv = Hypervisor.open({ backend: opts.backend });
      const cap = hv.capability();
      hv.close();
      // Where 'auto' took the soft CPU: why not KVM (the soft CPU is far slower; a user wants to know).
      // 'auto' passed over it, or KVM opened and refused with ENODEV (its message went with the fallback).
      const kvmNotUsed = hv.backend === 'soft' && effectiveChoice(opts.backend) === 'auto'
        ? kvmPassedOver() ?? 'KVM refused to open (ENODEV)' : undefined;
      const fpu = xcr0Names(cap.arch.xcr0Mask);
      if (opts.json) {
        process.stdout.write(JSON.stringify({
          backend: hv.backend, ...(kvmNotUsed === undefined ? {} : { kvmNotUsed }), version: cap.version, stateSize: cap.stateSize, maxMachines: cap.maxMachines,
          maxVcpus: cap.maxVcpus, maxRam: cap.maxRam,
          arch: {
            ...cap.arch, xcr0Mask: hex(cap.arch.xcr0Mask), guestFpuStates: fpu,
            cr4Mask: hex(cap.arch.cr4Mask), eferMask: hex(cap.arch.eferMask),
          },
        }) + '\n');
        return;
      }
      // NVMM's NVMM_CAP_ARCH_VCPU_CONF_* bits: CPUID = 1, TPR = 2.
      const conf = ([['CPUID', cap.arch.vcpuConf.cpuid, 1], ['TPR', cap.arch.vcpuConf.tpr, 2]] as const).filter(([, on]) => on);
      const confBits = conf.reduce((bits, [, , bit]) => bits | bit, 0);
      const lines: [string, string][] = [
        ['Backend', hv.backend],
        ['API version', String(cap.version)],
        ['State size', String(cap.stateSize)],
        ['Max machines', String(cap.maxMachines)],
        ['Max VCPUs per machine', String(cap.maxVcpus)],
        ['Max RAM per machine', humanBytes(cap.maxRam)],
        ['Arch VCPU conf', `${hex(confBits)}<${conf.map(([name]) => name).join(',')}>`],
        ['Guest FPU states', `${hex(cap.arch.xcr0Mask)}<${fpu.join(',')}>`],
        ['MXCSR mask', hex(cap.arch.mxcsrMask)],
        ['Configurable CPUID leaves', String(cap.arch.cpuidMaxOps)],
      ];
      if (kvmNotUsed !== undefined) lines.splice(1, 0, ['KVM not used:', kvmNotUsed]);
      process.stdout.write(lines.map(([k, v]) => `tsvisor: ${k} ${v}\n`).join(''));
    });
}
