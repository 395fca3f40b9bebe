/**
 * MCFG (revision 1): the PCIe enhanced configuration (ECAM) region of segment 0. The address is
 * that of bus 0 even when the decoded range starts later (ACPI/PCI firmware spec).
 */
import type { ResolvedEcam } from './options.js';
import { TableWriter, sdt } from './sdt.js';

export function buildMcfg(ecam: ResolvedEcam): Uint8Array {
  const w = new TableWriter(8 + 16); // 8 reserved bytes, one allocation entry
  w.u64(8, ecam.base);
  w.u16(16, 0); // PCI segment group
  w.u8(18, ecam.startBus);
  w.u8(19, ecam.endBus);
  return sdt('MCFG', 1, w.bytes);
}
