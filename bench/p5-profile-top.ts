/**
 * P5 helper script: the top self-time functions of a V8 .cpuprofile (as written by
 * `node --cpu-prof`, which writes one file per thread, the vCPU worker's included).
 *
 * Usage: node dist/bench/p5-profile-top.js FILE.cpuprofile [N=15]
 * Prints "self ms, self %, function, file:line" per row, heaviest first; functions with the same
 * name and place are added together (V8 keeps one node per call path).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

function main(): void {
  const [file, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: p5-profile-top.js FILE.cpuprofile [N]');
  const top = Number(count ?? 15);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // Self time per node: each sample's time delta belongs to the node it hit.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (!n) return;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'}\t${f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ''}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    totalUs += dt;
  });
  const rows = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled`);
  for (const [key, us] of rows) {
    const [name, where] = key.split('\t');
    console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${(100 * us / totalUs).toFixed(1).padStart(5)}%  ${name}  ${where}`);
  }
}

main();
