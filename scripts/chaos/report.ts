/** Output: the table (stdout, tests) and the report files under bench-results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ChaosReport, FaultName } from './types.js';

const FAULT_TITLES: Record<FaultName, string> = {
  baseline: 'none (baseline)',
  redis: 'Redis stopped, restarted',
  bff: 'bff-1 SIGKILLed',
  customers: 'customers service killed, restarted',
  mongo: 'FerretDB stopped, restarted',
};

export function reportTable(report: ChaosReport): string {
  const rows = [
    '| fault | requests | failed idempotent | failed non-idempotent | failures (method status: n) | slowest failure during fault | time to recover | lost writes | duplicates | stale reads |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const p of report.phases) {
    const failures =
      Object.entries(p.failures)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '-';
    const recover = p.recoverMs === null ? 'no' : `${(p.recoverMs / 1000).toFixed(1)} s`;
    rows.push(
      `| ${FAULT_TITLES[p.fault]} | ${p.requests} | ${p.idempotent.failed} / ${p.idempotent.total} | ${p.nonIdempotent.failed} / ${p.nonIdempotent.total} | ${failures} | ${p.duringFault.slowestFailureMs} ms | ${recover} | ${p.lostWrites} | ${p.duplicates} | ${p.staleReads} |`,
    );
  }
  const lines = [rows.join('\n')];
  const customers = report.phases.find((p) => p.fault === 'customers');
  if (customers) {
    lines.push(
      `\norders.create while the customers service was down: ${JSON.stringify(customers.orderCreatesDuringFault.statuses)}, slowest ${customers.orderCreatesDuringFault.slowestMs} ms.`,
    );
  }
  lines.push(
    `Time to recover: from the restart (BFF: the kill) to /healthz 200 and a successful orders.create; from the restarted process listening: ${report.phases
      .map((p) => `${p.fault} ${p.recoverAfterListeningMs ?? '-'} ms`)
      .join(', ')}.`,
  );
  lines.push(
    `Ledger: ${report.ledger.customers} customers, ${report.ledger.orders} orders, ${report.ledger.updates} acknowledged updates; final check: ${report.final.lostWrites} lost, ${report.final.duplicates} duplicated, ${report.final.staleReads} stale; history: ${report.history.changes} changes, ${report.history.missing} without an entry, ${report.history.orphans} entries without a change. Processes that exited: ${report.exits.length ? report.exits.join('; ') : 'none'}.`,
  );
  if (report.soak) {
    lines.push(
      `\nSoak (${report.options.soakMs / 60_000} min at steady load, ${report.soak.requests} requests, ${report.soak.failed} failed${report.soak.failed > 0 ? `: ${JSON.stringify(report.soak.failures)}` : ''}); RSS from the end of the first minute to the end:\n`,
    );
    lines.push('| process | RSS start | RSS end | RSS max | growth |\n| --- | ---: | ---: | ---: | ---: |');
    for (const s of report.soak.rss) {
      lines.push(
        `| ${s.name} | ${(s.startKiB / 1024).toFixed(1)} MiB | ${(s.endKiB / 1024).toFixed(1)} MiB | ${(s.maxKiB / 1024).toFixed(1)} MiB | ${s.growthPercent}% |`,
      );
    }
  }
  return lines.join('\n');
}

/** Writes bench-results/chaos.md (the table and the verdict) and bench-results/chaos.json (the whole report); returns the .md path. */
export function writeReport(report: ChaosReport, problems: string[], command: string): string {
  const dir = join(import.meta.dirname, '..', '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const markdown = [
    '# Chaos run',
    '',
    `Latest run: ${report.startedAt.slice(0, 10)}, \`${command}\`, ${report.durationS} s, ${report.options.concurrency} workers, faults held ${report.options.faultMs / 1000} s each, on ${process.platform} with ${availableParallelism()} cores.`,
    '',
    reportTable(report),
    '',
    problems.length === 0 ? 'Every property held.' : `Properties that did not hold:\n\n${problems.map((p) => `- ${p}`).join('\n')}`,
    '',
  ].join('\n');
  const file = join(dir, 'chaos.md');
  writeFileSync(file, markdown);
  writeFileSync(join(dir, 'chaos.json'), `${JSON.stringify({ ...report, problems }, null, 2)}\n`);
  return file;
}
