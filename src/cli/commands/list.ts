/** `tsvisor list [--json]`: the live machines of every process on this host, as nvmmctl list. */
import { Command } from 'commander';
import { listMachines } from '../../frontend/registry.js';
import { ctime, humanBytes, table } from '../format.js';

export function listCommand(): Command {
  return new Command('list')
    .description('list the live machines of all processes (from the runtime directory)')
    .option('--json', 'print a JSON array')
    .action((opts: { json?: boolean }) => {
      const machines = listMachines();
      if (opts.json) {
        process.stdout.write(JSON.stringify(machines.map((m) => ({
          id: m.id, backend: m.backend, vcpus: m.vcpus, ram: m.ram, pid: m.pid, created: new Date(m.created).toISOString(),
        }))) + '\n');
        return;
      }
      process.stdout.write(table(
        ['Machine ID', 'Backend', 'VCPUs', 'RAM', 'Owner PID', 'Creation Time'],
        machines.map((m) => [String(m.id), m.backend, String(m.vcpus), humanBytes(m.ram), String(m.pid), ctime(m.created)]),
      ));
    });
}
