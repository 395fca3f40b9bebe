/**
 * Module hooks for no-kvm.test.ts: make the KVM backend's libc binding fail to load, as on a host
 * without glibc, to check that tsvisor still imports and 'auto' falls back to the soft backend.
 */
interface LoadResult { format: string; source: string; shortCircuit: boolean }
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  if (url.endsWith('/backends/kvm/libc.js')) {
    return { format: 'module', source: "throw new Error('simulated: libc.so.6 cannot be loaded');", shortCircuit: true };
  }
  return nextLoad(url, context);
}
