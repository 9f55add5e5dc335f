import { type ChaosReport, type FaultName, KILLED_ON_PURPOSE, RECOVERY_LIMIT_MS } from './types.js';

/** The properties of issue 7 §2 that a report must show; empty when all hold. */
export function violations(report: ChaosReport, limits = { failFastMs: 3_000, recoverMs: 5_000 }): string[] {
  const out: string[] = [];
  const phase = (fault: FaultName) => report.phases.find((p) => p.fault === fault);
  for (const p of report.phases) {
    if (p.lostWrites > 0) out.push(`${p.fault}: ${p.lostWrites} lost writes`);
    if (p.duplicates > 0) out.push(`${p.fault}: ${p.duplicates} duplicated writes`);
    if (p.staleReads > 0) out.push(`${p.fault}: ${p.staleReads} stale reads`);
    if (p.recoverMs === null) out.push(`${p.fault}: did not recover within ${RECOVERY_LIMIT_MS} ms`);
    if (p.problems.length > 0 && p.lostWrites + p.staleReads + p.duplicates === 0) out.push(`${p.fault}: ${p.problems[0]}`);
  }
  const baseline = phase('baseline');
  if (baseline && baseline.idempotent.failed + baseline.nonIdempotent.failed > 0)
    out.push(`baseline: ${JSON.stringify(baseline.failures)} failed without a fault`);
  const redis = phase('redis');
  if (redis && redis.idempotent.failed + redis.nonIdempotent.failed > 0)
    out.push(`redis down: ${JSON.stringify(redis.failures)} failed (must be none)`);
  const bff = phase('bff');
  if (bff && bff.idempotent.failed > 0) out.push(`bff replica down: ${bff.idempotent.failed} idempotent requests failed (must be none)`);
  const customers = phase('customers');
  if (customers) {
    const creates = customers.orderCreatesDuringFault;
    const statuses = Object.keys(creates.statuses);
    // A create already past its reference check when the kill landed may still succeed (201);
    // every other one must fail as unavailable, and fast.
    if (!statuses.includes('503')) out.push('customers down: no orders.create failed with 503 during the fault (was it down?)');
    if (statuses.some((s) => s !== '503' && s !== '201'))
      out.push(`customers down: orders.create answered ${JSON.stringify(creates.statuses)} (want 503)`);
    if (creates.slowestMs > limits.failFastMs) out.push(`customers down: an orders.create took ${creates.slowestMs} ms`);
    if (customers.recoverAfterListeningMs === null || customers.recoverAfterListeningMs > limits.recoverMs)
      out.push(`customers down: recovered ${customers.recoverAfterListeningMs} ms after it listened again (limit ${limits.recoverMs})`);
  }
  const mongo = phase('mongo');
  if (mongo) {
    if (mongo.duringFault.failed === 0) out.push('mongo down: no request failed during the fault (was it down?)');
    const statuses = Object.keys(mongo.failures).map((k) => k.split(' ')[1]);
    if (statuses.some((s) => s !== '503')) out.push(`mongo down: failures ${JSON.stringify(mongo.failures)} (want 503 only)`);
    if (mongo.duringFault.slowestFailureMs > limits.failFastMs)
      out.push(`mongo down: a failing request took ${mongo.duringFault.slowestFailureMs} ms (${mongo.duringFault.slowestFailure})`);
    if (mongo.recoverAfterListeningMs === null || mongo.recoverAfterListeningMs > limits.recoverMs)
      out.push(`mongo down: recovered ${mongo.recoverAfterListeningMs} ms after it listened again (limit ${limits.recoverMs})`);
  }
  for (const line of report.exits) {
    const name = line.split(' ')[0]!;
    if (!KILLED_ON_PURPOSE.includes(name)) out.push(`crash: ${line}`);
  }
  for (const p of report.final ? [report.final] : []) {
    if (p.lostWrites + p.duplicates + p.staleReads > 0) out.push(`final check: ${JSON.stringify(p)}`);
  }
  if (report.history && report.history.missing + report.history.orphans > 0)
    out.push(`history: ${report.history.missing} changes without an entry, ${report.history.orphans} entries without a change`);
  if (report.soak) {
    if (report.soak.failed > 0) out.push(`soak: ${report.soak.failed} failed requests`);
    for (const s of report.soak.rss) if (s.growthPercent >= 10) out.push(`soak: ${s.name} RSS grew ${s.growthPercent}%`);
  }
  return out;
}
