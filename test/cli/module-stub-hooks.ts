/**
 * Module hooks for CLI tests that run tsvisor with one of its modules replaced by a stand-in
 * (installed by a *-register.ts file through node:module register, which passes the data):
 * the module whose URL ends with `suffix` loads `source` instead.
 */
interface LoadResult { format: string; source: string; shortCircuit: boolean }
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;
export interface StubData { suffix: string; source: string }

let stub: StubData | undefined;

export function initialize(data: StubData): void {
  stub = data;
}

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  if (stub !== undefined && url.endsWith(stub.suffix)) return { format: 'module', source: stub.source, shortCircuit: true };
  return nextLoad(url, context);
}
