/** The --backend option every command that runs a VM takes. */
import { Option } from 'commander';

export function backendOption(): Option {
  return new Option('--backend <name>', 'backend: auto (KVM when usable, else soft), kvm or soft')
    .choices(['auto', 'kvm', 'soft'])
    .default('auto');
}
