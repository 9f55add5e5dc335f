/** The soak: steady load for `soakMs`, sampling the RSS of every process of the stack. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from './phases.js';
import { Recorder } from './recorder.js';
import type { ChaosReport } from './types.js';
import { verify } from './verify.js';

export async function runSoak(h: Harness): Promise<NonNullable<ChaosReport['soak']>> {
  const { stack, load, options, progress } = h;
  const recorder = new Recorder('baseline');
  load.recorder = recorder;
  progress(`soak: ${options.soakMs / 1000} s`);
  const sample = () => Object.fromEntries(Object.entries(stack.supervisor.pids()).map(([name, pid]) => [name, rssKiB(pid) ?? 0]));
  load.start();
  // The first minute warms JIT and heaps up; growth is measured from there.
  const warm = Math.min(60_000, options.soakMs / 5);
  await sleep(warm);
  const first = sample();
  const max = { ...first };
  const until = Date.now() + options.soakMs - warm;
  while (Date.now() < until) {
    await sleep(Math.min(30_000, Math.max(0, until - Date.now())));
    for (const [name, kib] of Object.entries(sample())) max[name] = Math.max(max[name] ?? 0, kib);
  }
  const last = sample();
  await load.stop();
  await verify(h.api, h.ledger, h.mongo, recorder);
  const p = recorder.phase;
  const soak = {
    requests: p.requests,
    failed: p.idempotent.failed + p.nonIdempotent.failed + p.lostWrites + p.staleReads,
    failures: p.failures,
    rss: Object.keys(first).map((name) => ({
      name,
      startKiB: first[name]!,
      endKiB: last[name] ?? 0,
      maxKiB: max[name] ?? 0,
      growthPercent: Math.round((((last[name] ?? 0) - first[name]!) / first[name]!) * 1000) / 10,
    })),
  };
  if (p.problems.length > 0) progress(`soak problems: ${p.problems.join('; ')}`);
  if (Object.keys(p.failures).length > 0) progress(`soak failures: ${JSON.stringify(p.failures)}`);
  return soak;
}

function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
