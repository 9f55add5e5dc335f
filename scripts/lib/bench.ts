import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A closed-loop load generator: `concurrency` workers call `call` back to back for `durationMs`
 * (after a short warm-up); latencies are taken around `call` only, so per-call preparation
 * (`before`) is not counted.
 */
export interface BenchCase {
  name: string;
  concurrency: number;
  durationMs?: number;
  before?: (worker: number) => Promise<void>;
  call: (worker: number) => Promise<unknown>;
  /** Called once the warm-up is over, and once the measured run has ended (CPU accounting). */
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

export interface BenchResult {
  name: string;
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** What the issues ask of this row, and whether it was met (printed beside it). */
  target?: string;
  met?: boolean;
}

export async function runCase(bench: BenchCase): Promise<BenchResult> {
  const durationMs = bench.durationMs ?? 5_000;
  await runFor(bench, Math.min(1_000, durationMs / 5), () => {}); // warm-up
  const latencies: number[] = [];
  let errors = 0;
  bench.onMeasureStart?.();
  const started = performance.now();
  await runFor(bench, durationMs, (ms, ok) => {
    if (ok) latencies.push(ms);
    else errors++;
  });
  const elapsed = (performance.now() - started) / 1000;
  bench.onMeasureEnd?.();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  return {
    name: bench.name,
    concurrency: bench.concurrency,
    requests: latencies.length + errors,
    errors,
    rps: Math.round((latencies.length + errors) / elapsed),
    p50: round(pct(0.5)),
    p99: round(pct(0.99)),
  };
}

async function runFor(bench: BenchCase, durationMs: number, record: (ms: number, ok: boolean) => void) {
  const until = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: bench.concurrency }, async (_, worker) => {
      while (performance.now() < until) {
        if (bench.before) await bench.before(worker);
        const t0 = performance.now();
        try {
          await bench.call(worker);
          record(performance.now() - t0, true);
        } catch {
          record(performance.now() - t0, false);
        }
      }
    }),
  );
}

export const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The `p` quantile (0..1) of sorted values; NaN when there are none. */
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

export function printTable(results: BenchResult[]) {
  const targets = results.some((r) => r.target);
  const rows = [
    ['case', 'conc', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors', ...(targets ? ['target'] : [])],
    ...results.map((r) => [
      ...[r.name, r.concurrency, r.requests, r.rps, r.p50, r.p99, r.errors].map(String),
      ...(targets ? [r.target ? `${r.target}: ${r.met ? 'met' : 'MISSED'}` : ''] : []),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => (i === 0 || i === 7 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 7 ? ':' : '-') + '-'.repeat(w) + (i === 0 || i === 7 ? '-' : ':')).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}

export function writeResults(name: string, results: BenchResult[], meta: Record<string, unknown> = {}) {
  const dir = join(import.meta.dirname, '../../bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), ...meta, results }, null, 2)}\n`);
  console.log(`\nwritten to ${file}`);
}
