/**
 * The monitor's own writes to guest RAM, announced (a machine created with hostWrites
 * 'announced'): so the soft CPU keeps its decoded code, links and jump cache from one run to the
 * next and re-checks only the pages the host wrote, as QEMU's TCG learns of DMA writes from its
 * memory API instead of re-reading its code pages.
 *
 * Devices write guest RAM only through views RegionGuestMemory hands out, any of which may be
 * written, so the pages of every view are noted, and announced once the writes are in and before
 * a vCPU could run what was written: right before the devices' thread's next run, and before
 * another vCPU's device request is answered (machine.ts). Announcing a page nothing ran from costs
 * a lookup; a view that was only read costs no more.
 */
const PAGE = 4096;

export class HostWriteLog {
  private readonly pages = new Set<number>();

  /** announce: Machine.hostWrote of the machine the views are of. */
  constructor(private readonly announce: (gpa: number, size: number) => void) {}

  /** A view of [gpa, gpa + length) was handed out. */
  note(gpa: number, length: number): void {
    if (length <= 0) return;
    const last = Math.floor((gpa + length - 1) / PAGE);
    for (let p = Math.floor(gpa / PAGE); p <= last; p++) this.pages.add(p);
  }

  /** Announces every page noted since the last flush. */
  flush(): void {
    if (this.pages.size === 0) return;
    for (const p of this.pages) this.announce(p * PAGE, PAGE);
    this.pages.clear();
  }
}
