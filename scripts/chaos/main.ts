/**
 * `npm run chaos`: faults under load. Starts the whole stack (its own FerretDB and Redis) on free
 * loopback ports, runs a steady mixed load through Nginx (reads, creates, updates with versions)
 * and, one at a time, stops Redis, SIGKILLs a BFF replica, kills the customers service and stops
 * FerretDB, each for a while, then lets the stack heal. A client-side ledger records every
 * acknowledged write; after each fault it checks that every one is there exactly once (through the
 * API and in MongoDB), that no read returned a record older than an acknowledged update, and how
 * long the stack took to serve a write again. The full run ends with a 10-minute soak that samples
 * the RSS of every process. Results: a table on stdout, bench-results/chaos.md and
 * bench-results/chaos.json (git-ignored). The harness never edits docs/.
 *
 * This module is the entry and the package export `@pdash/scripts/chaos`: `runChaos` is also what
 * tests/chaos/chaos.test.ts runs, with short phases and no soak.
 * Environment: CHAOS_SHORT=1 (short phases, no soak), CHAOS_SOAK_SECONDS (default 600),
 * CHAOS_CONCURRENCY (default 8), CHAOS_STACK_LOGS (print every stack output line).
 *
 * The parts: types.ts (options, results, limits), ledger.ts (acknowledged writes), api.ts (requests),
 * recorder.ts (a phase's accounting), load.ts (the workers), verify.ts (the checks), phases.ts (the
 * faults), soak.ts (RSS under steady load), run.ts (`runChaos`), violations.ts (the properties),
 * report.ts (the table and the report files).
 */
import { runMain } from '@pdash/backend-shared/main';
import { reportTable, writeReport } from './report.js';
import { runChaos } from './run.js';
import { type ChaosOptions, SHORT_OPTIONS } from './types.js';
import { violations } from './violations.js';

export { reportTable, writeReport } from './report.js';
export { runChaos } from './run.js';
export {
  type ChaosOptions,
  type ChaosReport,
  type FaultName,
  KILLED_ON_PURPOSE,
  type PhaseResult,
  type RssSample,
  SHORT_OPTIONS,
} from './types.js';
export { violations } from './violations.js';

async function main() {
  const short = process.env.CHAOS_SHORT === '1';
  const options: ChaosOptions = short
    ? SHORT_OPTIONS
    : {
        faultMs: 20_000,
        calmMs: 10_000,
        concurrency: Number(process.env.CHAOS_CONCURRENCY ?? 8),
        soakMs: Number(process.env.CHAOS_SOAK_SECONDS ?? 600) * 1000,
      };
  options.progress = (line) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);
  if (process.env.CHAOS_STACK_LOGS) options.log = (line) => console.log(line);
  const report = await runChaos(options);
  const problems = violations(report);
  console.log(`\n${reportTable(report)}\n`);
  for (const phase of report.phases) for (const p of phase.problems) console.log(`${phase.fault}: ${p}`);
  console.log(
    problems.length === 0 ? 'every property held' : `properties that did not hold:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  const file = writeReport(report, problems, short ? 'CHAOS_SHORT=1 npm run chaos' : 'npm run chaos');
  console.log(`written to ${file}`);
  process.exit(problems.length === 0 ? 0 : 1);
}

runMain(import.meta.url, 'chaos', main, { oneShot: true });
