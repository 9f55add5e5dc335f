/** The chaos run's options, results and limits. */

export type FaultName = 'baseline' | 'redis' | 'bff' | 'customers' | 'mongo';

export interface ChaosOptions {
  /** How long each fault is held (load runs throughout). */
  faultMs: number;
  /** Load before the fault and after the stack has recovered. */
  calmMs: number;
  /** Closed-loop workers sending requests through Nginx. */
  concurrency: number;
  /** 0: no soak. */
  soakMs: number;
  /** Every stack output line. */
  log?: (line: string) => void;
  /** Progress lines of the run itself. */
  progress?: (line: string) => void;
}

export interface Counter {
  total: number;
  failed: number;
}

export interface PhaseResult {
  fault: FaultName;
  requests: number;
  idempotent: Counter;
  nonIdempotent: Counter;
  /** Failures by status ("network", "timeout", or the HTTP status) and method. */
  failures: Record<string, number>;
  /** Requests that started while the fault was held. */
  duringFault: { requests: number; failed: number; slowestFailureMs: number; slowestFailure: string };
  /** orders.create calls started while the fault was held: statuses and the slowest answer. */
  orderCreatesDuringFault: { statuses: Record<string, number>; slowestMs: number };
  /** From the heal (restart started; for the BFF: the kill) to /healthz 200 and a successful order create. */
  recoverMs: number | null;
  /** From the restarted process listening again to the same. */
  recoverAfterListeningMs: number | null;
  lostWrites: number;
  duplicates: number;
  staleReads: number;
  /** Human-readable findings (first few): lost writes, stale reads, unexpected answers. */
  problems: string[];
}

export interface RssSample {
  name: string;
  startKiB: number;
  endKiB: number;
  maxKiB: number;
  growthPercent: number;
}

export interface ChaosReport {
  startedAt: string;
  durationS: number;
  options: Pick<ChaosOptions, 'faultMs' | 'calmMs' | 'concurrency' | 'soakMs'>;
  phases: PhaseResult[];
  soak?: { requests: number; failed: number; failures: Record<string, number>; rss: RssSample[] };
  ledger: { customers: number; orders: number; updates: number };
  /** Supervisor lines "<name> exited (…)": processes that died. */
  exits: string[];
  final: { lostWrites: number; duplicates: number; staleReads: number };
  /** The audit ledger (history.ts): every change that landed has its entry, and no entry is without one. */
  history: { changes: number; missing: number; orphans: number; problems: string[] };
}

export const MONGO_DB = 'chaos';
export const REQUEST_TIMEOUT_MS = 10_000;
export const RECOVERY_LIMIT_MS = 30_000;
/** Caps that keep the data set (and FerretDB's scans) small however long the run. */
export const MAX_CUSTOMERS = 1_500;
export const MAX_ORDERS = 1_000;
/** The processes the run kills on purpose; any other "exited (" line is a crash. */
export const KILLED_ON_PURPOSE = ['bff-1', 'customers'];

/** The variant `npm test` runs (tests/chaos/chaos.test.ts): about 80 s on two cores. */
export const SHORT_OPTIONS: ChaosOptions = { faultMs: 5_000, calmMs: 2_000, concurrency: 8, soakMs: 0 };
