/**
 * Moves one string element between guest RAM (by linear address) and a buffer, remembering the
 * last page translated so a run of elements in one page costs one page walk (the batching of
 * string I/O and of the RAM side of MOVS/STOS/LODS).
 */
import { VmmError, hex } from '../../api/errors.js';
import { GuestLinear, PAGE, type HostBytes } from './guest-linear.js';

export class ElementCopier {
  private pageLin = NaN;
  private pageWrite = false;
  private host: HostBytes | undefined;
  private pageGpa = 0;

  constructor(private readonly lin: GuestLinear) {}

  /** Host bytes for the page holding linear (translated for write when write), or undefined for MMIO. */
  private page(linear: number, write: boolean): HostBytes | undefined {
    const base = linear - (((linear % PAGE) + PAGE) % PAGE);
    if (base !== this.pageLin || (write && !this.pageWrite)) {
      this.pageGpa = this.lin.translate(base, write);
      this.host = this.lin.ram(this.pageGpa, write);
      this.pageLin = base;
      this.pageWrite = write;
    }
    return this.host;
  }

  /** Copies size bytes at linear to/from buf (toGuest: buf -> guest). RAM only; MMIO -> ENOTSUP. */
  copy(linear: number, buf: Uint8Array, size: number, toGuest: boolean): void {
    let done = 0;
    while (done < size) {
      const at = linear + done;
      const inPage = ((at % PAGE) + PAGE) % PAGE;
      const host = this.page(at, toGuest);
      if (!host) {
        throw new VmmError('ENOTSUP', `string I/O ${toGuest ? 'into' : 'from'} GVA ${hex(at)} (GPA ${hex(this.pageGpa + inPage)}), which is not guest RAM`);
      }
      const n = Math.min(size - done, PAGE - inPage);
      const o = host.off + inPage;
      if (toGuest) host.bytes.set(buf.subarray(done, done + n), o);
      else buf.set(host.bytes.subarray(o, o + n), done);
      done += n;
    }
  }
}
