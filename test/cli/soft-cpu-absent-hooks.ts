/**
 * Module hooks for lazy-commands.test.ts: the soft CPU's module is replaced by one that throws
 * (its importers then fail to link against it), so a command that loads it fails and one that
 * does not is unaffected.
 */
interface LoadResult { format: string; source: string; shortCircuit: boolean }
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  if (url.endsWith('/backends/soft/cpu.js')) {
    return { format: 'module', source: "throw new Error('simulated: the soft CPU module was loaded');", shortCircuit: true };
  }
  return nextLoad(url, context);
}
