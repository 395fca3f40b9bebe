/**
 * P7 helper: the measured exchanges with a booted guest that has its address (udhcpc) and a
 * hostfwd from HOSTPORT on 127.0.0.1 to guest port RX_PORT (and LATENCY_PORT):
 *   - host -> guest: the guest's `busybox nc -l` writes what it gets to /tmp/rx; the host connects
 *     through hostfwd and sends the data; timed from the host's connect to the guest's console
 *     saying nc is done (after it read the host's FIN); the guest then prints the byte count.
 *   - guest -> host: the guest's `busybox nc 10.0.2.2 PORT < /tmp/rx` sends that file back to a
 *     host listener; timed from the host's accept to the guest's FIN. The host compares what it
 *     got with what it sent (length and SHA-256), so a transfer broken either way fails the bench.
 *   - connection setup: sequential connects through hostfwd to a guest `nc -ll -e /bin/echo x`,
 *     each timed from connect to the first byte the guest sends (includes the guest's fork + exec).
 * Each figure comes with the VMM process's CPU time over the same span.
 */
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import type { GuestConsole } from './p7-guest-console.js';

export const RX_PORT = 5001;
export const LATENCY_PORT = 5002;

/** A measured transfer: the VMM's CPU over it in all, and per thread (the busiest first, as text). */
export interface Span { bytes: number; wallS: number; cpuS: number; threads: string }

/** The CPU each thread of the VMM used between two samples, busiest first, threads under 0.02 s left out. */
function threadDelta(before: Map<string, number>, after: Map<string, number>): string {
  return [...after].map(([name, s]) => [name, s - (before.get(name) ?? 0)] as const).filter(([, s]) => s >= 0.02)
    .sort((a, b) => b[1] - a[1]).map(([name, s]) => `${name} ${s.toFixed(2)} s`).join(", ") || "no thread over 0.02 s";
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A port on 127.0.0.1 that was free a moment ago (for hostfwd and the guest->host listener). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Seeded bytes (xorshift32), so both VMMs get the same stream. */
export function pattern(bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  const w = new Uint32Array(b.buffer, 0, bytes >>> 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    w[i] = x;
  }
  return b;
}

/** Host -> guest through hostfwd HOSTPORT -> RX_PORT; the guest keeps the data in /tmp/rx. */
export async function pushToGuest(g: GuestConsole, hostPort: number, data: Uint8Array, timeoutMs: number): Promise<Span> {
  g.type(`rm -f /tmp/rx; nc -l -p ${RX_PORT} </dev/null >/tmp/rx & until netstat -ltn | grep -q ':${RX_PORT} '; do usleep 20000; done; ` +
    `echo LISTEN-$((40+2)); wait; echo RXDONE-$((40+2)); echo RXBYTES-$((40+2)) $(stat -c %s /tmp/rx)`);
  await g.waitFor(/LISTEN-42/, 60_000);
  const c0 = g.cpuSeconds(), th0 = g.threadCpuSeconds(), t0 = process.hrtime.bigint();
  const sock = net.connect({ host: '127.0.0.1', port: hostPort, allowHalfOpen: true });
  const failed = new Promise<never>((_, reject) => sock.on('error', (e) => reject(new Error(`${g.name}: host->guest socket: ${e.message}`))));
  failed.catch(() => undefined); // an error after the race is decided is not the bench's failure
  sock.resume(); // the guest sends nothing; its early FIN (nc's stdin is /dev/null) must not stall us
  sock.end(data);
  await Promise.race([g.waitFor(/RXDONE-42/, timeoutMs), failed]);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9, cpuS = g.cpuSeconds() - c0, threads = threadDelta(th0, g.threadCpuSeconds());
  sock.destroy();
  const got = Number((await g.waitFor(/RXBYTES-42 (\d+)\r?\n/, 60_000))[1]);
  if (got !== data.length) throw new Error(`${g.name}: host->guest: the guest got ${got} bytes of ${data.length}`);
  return { bytes: got, wallS, cpuS, threads };
}

/** Guest -> host: the guest sends /tmp/rx (what pushToGuest left) to 10.0.2.2; it must equal `data`. */
export async function pullFromGuest(g: GuestConsole, data: Uint8Array, timeoutMs: number): Promise<Span> {
  const want = sha256(data);
  let c0 = 0, t0 = 0n, th0 = new Map<string, number>();
  const hash = createHash('sha256');
  let bytes = 0;
  const server = net.createServer({ allowHalfOpen: true });
  const done = new Promise<Span>((resolve, reject) => {
    server.on('connection', (s) => {
      c0 = g.cpuSeconds(); th0 = g.threadCpuSeconds(); t0 = process.hrtime.bigint();
      server.close();
      s.on('data', (d: Buffer) => { bytes += d.length; hash.update(d); });
      s.on('error', (e) => reject(new Error(`${g.name}: guest->host socket: ${e.message}`)));
      s.on('end', () => {
        const span = { bytes, wallS: Number(process.hrtime.bigint() - t0) / 1e9, cpuS: g.cpuSeconds() - c0, threads: threadDelta(th0, g.threadCpuSeconds()) };
        s.end(); // lets the guest's nc see EOF and exit
        resolve(span);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  g.type(`nc 10.0.2.2 ${port} </tmp/rx >/dev/null; echo TXDONE-$((40+2)) $?`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${g.name}: guest->host: no end within ${timeoutMs} ms; ${g.tail()}`)), timeoutMs); });
  const span = await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  server.close();
  const status = (await g.waitFor(/TXDONE-42 (\d+)\r?\n/, 60_000))[1];
  if (bytes !== data.length || hash.digest('hex') !== want) {
    throw new Error(`${g.name}: guest->host: got ${bytes} bytes of ${data.length}${bytes === data.length ? ' with a different SHA-256' : ''}`);
  }
  if (status !== '0') throw new Error(`${g.name}: guest nc exited with ${status}`);
  return span;
}

/** One hostfwd connect to the guest's echo server: ms from connect to the guest's first byte. */
function oneConnect(hostPort: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const sock = net.connect({ host: '127.0.0.1', port: hostPort });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no reply through hostfwd :${hostPort} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.once('data', (d: Buffer) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      sock.destroy();
      if (d[0] !== 0x78) reject(new Error(`unexpected first byte 0x${d[0]!.toString(16)}`)); // 'x'
      else resolve(ms);
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('end', () => { clearTimeout(timer); reject(new Error(`hostfwd :${hostPort}: closed before the guest's first byte`)); });
  });
}

/** Median connect-to-first-byte time (ms) and the VMM's CPU ms per connection over `count` connects. */
export async function connectLatency(g: GuestConsole, hostPort: number, count: number): Promise<{ medianMs: number; cpuMsEach: number; all: number[] }> {
  g.type(`nc -ll -p ${LATENCY_PORT} -e /bin/echo x </dev/null >/dev/null & until netstat -ltn | grep -q ':${LATENCY_PORT} '; do usleep 20000; done; echo ECHOUP-$((40+2))`);
  await g.waitFor(/ECHOUP-42/, 60_000);
  const all: number[] = [];
  const c0 = g.cpuSeconds();
  for (let i = 0; i < count; i++) {
    all.push(await oneConnect(hostPort, 30_000));
    // Let the guest's child exit and the connection close before the next one.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cpuMsEach = (g.cpuSeconds() - c0) * 1000 / count;
  const sorted = [...all].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { medianMs, cpuMsEach, all };
}
