/** The accounting of one phase: every request's outcome and the problems found. */
import type { Answer } from './api.js';
import type { FaultName, PhaseResult } from './types.js';

export class Recorder {
  phase: PhaseResult;
  faultHeld = false;

  constructor(fault: FaultName) {
    this.phase = emptyPhase(fault);
  }

  record(method: string, path: string, answer: Answer, ok: boolean, startedInFault: boolean) {
    const phase = this.phase;
    phase.requests++;
    const counter = method === 'GET' ? phase.idempotent : phase.nonIdempotent;
    counter.total++;
    if (startedInFault) phase.duringFault.requests++;
    if (startedInFault && path === '/api/orders' && method === 'POST') {
      const key = String(answer.status);
      phase.orderCreatesDuringFault.statuses[key] = (phase.orderCreatesDuringFault.statuses[key] ?? 0) + 1;
      phase.orderCreatesDuringFault.slowestMs = Math.max(phase.orderCreatesDuringFault.slowestMs, Math.round(answer.ms));
    }
    if (ok) return;
    counter.failed++;
    const key = `${method} ${answer.status}`;
    phase.failures[key] = (phase.failures[key] ?? 0) + 1;
    if (startedInFault) {
      phase.duringFault.failed++;
      if (answer.ms > phase.duringFault.slowestFailureMs) {
        phase.duringFault.slowestFailureMs = Math.round(answer.ms);
        phase.duringFault.slowestFailure = `${method} ${path} ${answer.status}`;
      }
    }
  }

  problem(text: string) {
    if (this.phase.problems.length < 20) this.phase.problems.push(text);
  }
}

export function emptyPhase(fault: FaultName): PhaseResult {
  return {
    fault,
    requests: 0,
    idempotent: { total: 0, failed: 0 },
    nonIdempotent: { total: 0, failed: 0 },
    failures: {},
    duringFault: { requests: 0, failed: 0, slowestFailureMs: 0, slowestFailure: '' },
    orderCreatesDuringFault: { statuses: {}, slowestMs: 0 },
    recoverMs: null,
    recoverAfterListeningMs: null,
    lostWrites: 0,
    duplicates: 0,
    staleReads: 0,
    problems: [],
  };
}
