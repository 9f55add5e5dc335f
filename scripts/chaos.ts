/**
 * `npm run chaos`: faults under load. Starts the whole stack (its own FerretDB and Redis) on free
 * loopback ports, runs a steady mixed load through Nginx (reads, creates, updates with versions)
 * and, one at a time, stops Redis, SIGKILLs a BFF replica, kills the customers service and stops
 * FerretDB, each for a while, then lets the stack heal. A client-side ledger records every
 * acknowledged write; after each fault it checks that every one is there exactly once (through the
 * API and in MongoDB), that no read returned a record older than an acknowledged update, and how
 * long the stack took to serve a write again. The full run ends with a 10-minute soak that samples
 * the RSS of every process. Results: a table on stdout and in docs/reliability.md.
 *
 * `runChaos` is also what tests/chaos/chaos.test.ts runs, with short phases and no soak.
 * Environment: CHAOS_SHORT=1 (short phases, no soak), CHAOS_SOAK_SECONDS (default 600),
 * CHAOS_CONCURRENCY (default 8).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { MongoClient, ObjectId } from 'mongodb';
import { freePort, waitForPort } from './lib/infra.js';
import { startStack } from './stack.js';

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

interface Counter {
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
}

const MONGO_DB = 'chaos';
const REQUEST_TIMEOUT_MS = 10_000;
const RECOVERY_LIMIT_MS = 30_000;
/** Caps that keep the data set (and FerretDB's scans) small however long the run. */
const MAX_CUSTOMERS = 1_500;
const MAX_ORDERS = 1_000;
/** The processes the run kills on purpose; any other "exited (" line is a crash. */
export const KILLED_ON_PURPOSE = ['bff-1', 'customers'];

/* The ledger: what the server acknowledged. */

interface CustomerEntry {
  id: string;
  name: string;
  /** Last acknowledged version and fields. */
  version: number;
  phone?: string;
  /** An update whose answer never came: the server may or may not have applied it. */
  uncertain?: { version: number; phone: string };
  /** Version the owner knows (acknowledged, or read back after an uncertain update). */
  known: number;
  owner: number;
}

interface OrderEntry {
  id: string;
  totalCents: number;
  version: number;
}

class Ledger {
  readonly customers = new Map<string, CustomerEntry>();
  readonly orders = new Map<string, OrderEntry>();
  /** Every name / totalCents a create was attempted with (acknowledged or not), for the duplicate check. */
  readonly attemptedNames = new Set<string>();
  readonly attemptedTotals = new Set<number>();
  readonly ackedNames = new Set<string>();
  readonly ackedTotals = new Set<number>();
  updates = 0;
  private nextTotal = 1_000 + Math.floor(Math.random() * 1_000) * 1_000_000;

  uniqueTotal() {
    this.nextTotal += 1;
    return this.nextTotal;
  }

  randomCustomer() {
    return randomOf([...this.customers.values()]);
  }

  randomOrder() {
    return randomOf([...this.orders.values()]);
  }
}

function randomOf<T>(items: T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];
}

/* Requests and their accounting. */

interface Answer {
  status: number | 'network' | 'timeout';
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  body: any;
  ms: number;
}

class Recorder {
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

function emptyPhase(fault: FaultName): PhaseResult {
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

class Api {
  token = '';
  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const started = performance.now();
    // A timer of our own: an AbortSignal.timeout() signal that only fetch holds can be collected
    // before it fires (seen: a worker waited on a fetch for the whole 10-minute soak).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('request timed out', 'TimeoutError')), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed, ms: performance.now() - started };
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError';
      return { status: timeout ? 'timeout' : 'network', body: undefined, ms: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }
}

/* The load. */

class Load {
  private running = false;
  private workers: Promise<void>[] = [];
  /** Per worker: the customers it owns (only it updates them, so a 409 is never another worker's doing). */
  private owned: string[][] = [];

  constructor(
    private readonly api: Api,
    private readonly ledger: Ledger,
    private readonly supplierId: string,
    concurrency: number,
    public recorder: Recorder,
    private readonly mix: { create: number },
  ) {
    for (let i = 0; i < concurrency; i++) this.owned.push([]);
  }

  start() {
    this.running = true;
    this.workers = this.owned.map((_, i) => this.worker(i));
  }

  /** Stops the workers and waits for their requests in flight. */
  async stop() {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async worker(index: number) {
    while (this.running) {
      await this.step(index);
    }
  }

  private async step(index: number) {
    const own = this.owned[index]!;
    const r = Math.random();
    const canCreate = this.ledger.customers.size < MAX_CUSTOMERS;
    if (own.length < 2 && canCreate) return this.createCustomer(index);
    if (r < 0.3) return this.readCustomer();
    if (r < 0.4) return this.listCustomers();
    if (r < 0.5) return this.readOrder();
    if (r < 0.5 + this.mix.create && canCreate) return this.createCustomer(index);
    if (r < 0.85) return this.updateCustomer(index);
    // Past the cap, orders are still created while a fault is held: the customers phase checks them.
    if (this.ledger.orders.size < MAX_ORDERS || this.inFault()) return this.createOrder(index);
    return this.readCustomer();
  }

  private inFault() {
    return this.recorder.faultHeld;
  }

  private async createCustomer(index: number) {
    const name = `chaos ${randomBytes(6).toString('hex')}`;
    this.ledger.attemptedNames.add(name);
    const inFault = this.inFault();
    const answer = await this.api.call('POST', '/api/customers', { name });
    const ok = answer.status === 201 && answer.body?.name === name && answer.body?.version === 1;
    this.recorder.record('POST', '/api/customers', answer, ok, inFault);
    if (!ok) return;
    const id = answer.body.id as string;
    this.ledger.customers.set(id, { id, name, version: 1, known: 1, owner: index });
    this.ledger.ackedNames.add(name);
    this.owned[index]!.push(id);
  }

  private async readCustomer() {
    const entry = this.ledger.randomCustomer();
    if (!entry) return;
    const ackedAtStart = entry.version;
    const inFault = this.inFault();
    const answer = await this.api.call('GET', `/api/customers/${entry.id}`);
    const ok = answer.status === 200;
    this.recorder.record('GET', '/api/customers/:id', answer, ok || answer.status === 404, inFault);
    if (answer.status === 404) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`GET customer ${entry.id}: 404 for an acknowledged create`);
    }
    if (ok) this.checkFresh(entry, ackedAtStart, answer.body, 'GET');
  }

  private async listCustomers() {
    const ackedAtStart = new Map([...this.ledger.customers.values()].map((e) => [e.id, e.version]));
    const inFault = this.inFault();
    const answer = await this.api.call('GET', '/api/customers?limit=20');
    const ok = answer.status === 200 && Array.isArray(answer.body?.items);
    this.recorder.record('GET', '/api/customers', answer, ok, inFault);
    if (!ok) return;
    for (const item of answer.body.items as { id: string; version: number }[]) {
      const acked = ackedAtStart.get(item.id);
      const entry = this.ledger.customers.get(item.id);
      if (acked !== undefined && entry) this.checkFresh(entry, acked, item, 'list');
    }
  }

  /** A read must not be older than the last update acknowledged before it started. */
  private checkFresh(entry: CustomerEntry, ackedAtStart: number, record: { version: number; name?: string }, how: string) {
    if (record.version < ackedAtStart) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`${how} customer ${entry.id}: version ${record.version}, acknowledged ${ackedAtStart}`);
    } else if (record.name !== undefined && record.name !== entry.name) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`${how} customer ${entry.id}: name ${record.name}, expected ${entry.name}`);
    }
  }

  private async readOrder() {
    const entry = this.ledger.randomOrder();
    if (!entry) return;
    const inFault = this.inFault();
    const answer = await this.api.call('GET', `/api/orders/${entry.id}`);
    const ok = answer.status === 200;
    this.recorder.record('GET', '/api/orders/:id', answer, ok || answer.status === 404, inFault);
    if (answer.status === 404) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`GET order ${entry.id}: 404 for an acknowledged create`);
    } else if (ok && (answer.body.version < entry.version || answer.body.totalCents !== entry.totalCents)) {
      this.recorder.phase.staleReads++;
      this.recorder.problem(`GET order ${entry.id}: ${JSON.stringify(answer.body)} older than acknowledged`);
    }
  }

  private async updateCustomer(index: number) {
    const id = randomOf(this.owned[index]!);
    if (!id) return;
    const entry = this.ledger.customers.get(id)!;
    if (entry.uncertain) {
      // Learn whether the unanswered update was applied before building on a version.
      const inFault = this.inFault();
      const read = await this.api.call('GET', `/api/customers/${id}`);
      this.recorder.record('GET', '/api/customers/:id', read, read.status === 200, inFault);
      if (read.status !== 200) return;
      this.checkFresh(entry, entry.version, read.body, 'GET');
      entry.known = read.body.version;
      if (read.body.version === entry.uncertain.version && read.body.phone === entry.uncertain.phone) {
        entry.version = read.body.version;
        entry.phone = read.body.phone;
      }
      entry.uncertain = undefined;
    }
    const phone = `+1 555 ${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const inFault = this.inFault();
    const base = entry.known;
    const answer = await this.api.call('PATCH', `/api/customers/${id}`, { phone, version: base });
    const ok = answer.status === 200 && answer.body?.version === base + 1 && answer.body?.phone === phone;
    this.recorder.record('PATCH', '/api/customers/:id', answer, ok, inFault);
    if (ok) {
      this.ledger.updates++;
      entry.version = base + 1;
      entry.known = base + 1;
      entry.phone = phone;
      return;
    }
    if (typeof answer.status !== 'number' || answer.status >= 500) entry.uncertain = { version: base + 1, phone };
    else {
      // A 4xx on a record only this worker writes, at the version it knows: not expected.
      this.recorder.problem(`PATCH customer ${id} v${base}: ${answer.status} ${JSON.stringify(answer.body)}`);
      entry.uncertain = { version: base + 1, phone };
    }
  }

  private async createOrder(index: number) {
    const customerId = randomOf(this.owned[index]!);
    if (!customerId) return;
    const totalCents = this.ledger.uniqueTotal();
    this.ledger.attemptedTotals.add(totalCents);
    const inFault = this.inFault();
    const answer = await this.api.call('POST', '/api/orders', { customerId, supplierId: this.supplierId, totalCents });
    const ok = answer.status === 201 && answer.body?.totalCents === totalCents;
    this.recorder.record('POST', '/api/orders', answer, ok, inFault);
    if (!ok) return;
    this.ledger.orders.set(answer.body.id, { id: answer.body.id, totalCents, version: 1 });
    this.ledger.ackedTotals.add(totalCents);
  }
}

/* Checks. */

async function verify(api: Api, ledger: Ledger, mongo: MongoClient, recorder: Recorder, apiSample = Number.POSITIVE_INFINITY) {
  const db = mongo.db(MONGO_DB);
  const customers = [...ledger.customers.values()].map((e) => ({ ...e, acked: e.version }));
  const orders = [...ledger.orders.values()];
  const phase = recorder.phase;

  // In MongoDB: each acknowledged record, at or past its acknowledged version; each create at most once.
  const customerDocs = new Map<string, { name: string; phone?: string; version: number }>();
  for (const chunk of chunks(customers, 500)) {
    const docs = await db
      .collection('customers')
      .find({ _id: { $in: chunk.map((e) => new ObjectId(e.id)) } })
      .toArray();
    for (const doc of docs) customerDocs.set(doc._id.toHexString(), doc as never);
  }
  for (const entry of customers) {
    const doc = customerDocs.get(entry.id);
    const lost =
      !doc ||
      doc.version < entry.acked ||
      (doc.version === entry.acked && doc.name !== entry.name) ||
      (doc.version === entry.acked && entry.phone !== undefined && doc.phone !== entry.phone);
    if (lost) {
      phase.lostWrites++;
      recorder.problem(`customer ${entry.id} in MongoDB: ${JSON.stringify(doc)}, acknowledged v${entry.acked} ${entry.phone ?? ''}`);
    }
  }
  const names = new Map<string, number>();
  for (const chunk of chunks([...ledger.attemptedNames], 500)) {
    const docs = await db
      .collection('customers')
      .find({ name: { $in: chunk } }, { projection: { name: 1 } })
      .toArray();
    for (const doc of docs) names.set(doc.name, (names.get(doc.name) ?? 0) + 1);
  }
  for (const [name, count] of names) {
    if (count > 1) {
      phase.duplicates += count - 1;
      recorder.problem(`customer name ${name} stored ${count} times`);
    }
  }
  const totals = new Map<number, { count: number; pending: boolean }>();
  for (const chunk of chunks([...ledger.attemptedTotals], 500)) {
    const docs = await db
      .collection('orders')
      .find({ totalCents: { $in: chunk } }, { projection: { totalCents: 1, pendingSince: 1 } })
      .toArray();
    for (const doc of docs) {
      const seen = totals.get(doc.totalCents) ?? { count: 0, pending: false };
      totals.set(doc.totalCents, { count: seen.count + 1, pending: seen.pending || doc.pendingSince !== undefined });
    }
  }
  for (const [total, { count }] of totals) {
    if (count > 1) {
      phase.duplicates += count - 1;
      recorder.problem(`order totalCents ${total} stored ${count} times`);
    }
  }
  for (const entry of orders) {
    const stored = totals.get(entry.totalCents);
    if (!stored || stored.pending) {
      phase.lostWrites++;
      recorder.problem(`order ${entry.id} (${entry.totalCents}) in MongoDB: ${stored ? 'still pending' : 'missing'}`);
    }
  }

  // Through the API (cache included): the same; after a phase a random sample, at the end all of them.
  await pool(sample(customers, apiSample), 8, async (entry) => {
    const answer = await api.call('GET', `/api/customers/${entry.id}`);
    if (answer.status !== 200 || answer.body.version < entry.acked || answer.body.name !== entry.name) {
      phase.staleReads++;
      recorder.problem(`verify GET customer ${entry.id}: ${answer.status} v${answer.body?.version}, acknowledged v${entry.acked}`);
    }
  });
  await pool(sample(orders, apiSample), 8, async (entry) => {
    const answer = await api.call('GET', `/api/orders/${entry.id}`);
    if (answer.status !== 200 || answer.body.totalCents !== entry.totalCents) {
      phase.lostWrites++;
      recorder.problem(`verify GET order ${entry.id}: ${answer.status}`);
    }
  });
}

function sample<T>(items: T[], size: number): T[] {
  if (items.length <= size) return items;
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, size);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function pool<T>(items: T[], width: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

/** Waits until /healthz answers 200 and an order can be created; ms from `since`, or null. */
async function waitForRecovery(api: Api, probe: { customerId: string; supplierId: string }, ledger: Ledger, since: number) {
  const until = since + RECOVERY_LIMIT_MS;
  while (Date.now() < until) {
    const health = await api.call('GET', '/healthz');
    if (health.status === 200) {
      const totalCents = ledger.uniqueTotal();
      ledger.attemptedTotals.add(totalCents);
      const order = await api.call('POST', '/api/orders', { ...probe, totalCents });
      if (order.status === 201) {
        ledger.orders.set(order.body.id, { id: order.body.id, totalCents, version: 1 });
        ledger.ackedTotals.add(totalCents);
        return Date.now() - since;
      }
    }
    await sleep(100);
  }
  return null;
}

function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

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
  if (report.soak) {
    if (report.soak.failed > 0) out.push(`soak: ${report.soak.failed} failed requests`);
    for (const s of report.soak.rss) if (s.growthPercent >= 10) out.push(`soak: ${s.name} RSS grew ${s.growthPercent}%`);
  }
  return out;
}

/* The run. */

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const progress = options.progress ?? (() => {});
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-chaos-'));
  chmodSync(dataDir, 0o755); // as root, Nginx's workers (nobody) write request bodies in there
  const exits: string[] = [];
  const stack = await startStack({
    dataDir,
    port: await freePort(),
    freePorts: true,
    env: { MONGO_DB, LOG_LEVEL: 'warn', AUTH_TOKEN_TTL_SECONDS: '7200' },
    log: (line) => {
      const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
      const match = /^(\S+)\s*\| (.*)$/.exec(plain);
      if (match && /^exited \(/.test(match[2]!)) exits.push(`${match[1]} ${match[2]}`);
      options.log?.(line);
    },
  });
  // Ctrl-C or a kill must not leave the stack's processes behind.
  const interrupted = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping the stack`);
    stack.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const mongo = new MongoClient(stack.mongoUrl, { serverSelectionTimeoutMS: 2_000 });
  const api = new Api(stack.url);
  const ledger = new Ledger();
  const phases: PhaseResult[] = [];
  let soak: ChaosReport['soak'];
  try {
    const user = { username: `chaos_${randomBytes(4).toString('hex')}`, email: `chaos.${randomBytes(4).toString('hex')}@example.com` };
    const password = randomBytes(12).toString('base64url');
    const signup = await api.call('POST', '/api/auth/signup', { ...user, password });
    if (signup.status !== 201) throw new Error(`sign-up failed: ${signup.status}`);
    const login = await api.call('POST', '/api/auth/login', { username: user.username, password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    api.token = login.body.accessToken;
    const supplier = await api.call('POST', '/api/suppliers', { name: 'Chaos Supplies' });
    const probeCustomer = await api.call('POST', '/api/customers', { name: 'Chaos probe' });
    if (supplier.status !== 201 || probeCustomer.status !== 201) throw new Error('set-up writes failed');
    const probe = { customerId: probeCustomer.body.id as string, supplierId: supplier.body.id as string };

    const load = new Load(api, ledger, probe.supplierId, options.concurrency, new Recorder('baseline'), { create: 0.15 });

    const faults: { fault: FaultName; inject: () => Promise<void>; heal: () => Promise<void>; selfHealing?: boolean }[] = [
      { fault: 'baseline', inject: async () => {}, heal: async () => {} },
      {
        fault: 'redis',
        inject: () => stack.supervisor.stop('redis', 'SIGTERM'),
        heal: () => stack.supervisor.resume('redis'),
      },
      {
        // SIGKILL; the supervisor restarts it by itself (after its back-off).
        fault: 'bff',
        inject: async () => stack.supervisor.signal('bff-1', 'SIGKILL'),
        // The replica is back in once it listens again.
        heal: () => waitForPort(stack.bffPorts[0]!, RECOVERY_LIMIT_MS),
        selfHealing: true,
      },
      {
        fault: 'customers',
        inject: () => stack.supervisor.stop('customers', 'SIGKILL'),
        heal: () => stack.supervisor.resume('customers'),
      },
      {
        fault: 'mongo',
        inject: () => stack.supervisor.stop('ferretdb', 'SIGTERM'),
        heal: () => stack.supervisor.resume('ferretdb'),
      },
    ];

    for (const { fault, inject, heal, selfHealing } of faults) {
      const recorder = new Recorder(fault);
      load.recorder = recorder;
      progress(`${fault}: load`);
      load.start();
      await sleep(options.calmMs);
      recorder.faultHeld = true;
      const injectedAt = Date.now();
      await inject();
      progress(`${fault}: fault held for ${options.faultMs} ms`);
      let recovered: Promise<number | null> | undefined;
      // A fault the stack heals by itself (the supervisor restarts the replica): recovery counts from the kill.
      if (selfHealing) recovered = waitForRecovery(api, probe, ledger, injectedAt);
      await sleep(Math.max(0, options.faultMs - (Date.now() - injectedAt)));
      const healStarted = selfHealing ? injectedAt : Date.now();
      await heal();
      const listening = Date.now();
      recorder.faultHeld = false;
      recorder.phase.recoverMs = await (recovered ?? waitForRecovery(api, probe, ledger, healStarted));
      if (recorder.phase.recoverMs !== null)
        recorder.phase.recoverAfterListeningMs = Math.max(0, healStarted + recorder.phase.recoverMs - listening);
      progress(`${fault}: recovered in ${recorder.phase.recoverMs} ms; load`);
      await sleep(options.calmMs);
      await load.stop();
      await verify(api, ledger, mongo, recorder, 150);
      phases.push(recorder.phase);
      progress(`${fault}: ${recorder.phase.requests} requests, ${recorder.phase.problems.length} problems`);
      for (const problem of recorder.phase.problems.slice(0, 5)) progress(`  ${problem}`);
    }

    if (options.soakMs > 0) {
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
      await verify(api, ledger, mongo, recorder);
      const p = recorder.phase;
      soak = {
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
    }

    const final = new Recorder('baseline');
    await verify(api, ledger, mongo, final);
    return {
      startedAt: new Date(started).toISOString(),
      durationS: Math.round((Date.now() - started) / 1000),
      options: { faultMs: options.faultMs, calmMs: options.calmMs, concurrency: options.concurrency, soakMs: options.soakMs },
      phases,
      soak,
      ledger: { customers: ledger.customers.size, orders: ledger.orders.size, updates: ledger.updates },
      exits,
      final: { lostWrites: final.phase.lostWrites, duplicates: final.phase.duplicates, staleReads: final.phase.staleReads },
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await mongo.close().catch(() => {});
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/* Output. */

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
    `Ledger: ${report.ledger.customers} customers, ${report.ledger.orders} orders, ${report.ledger.updates} acknowledged updates; final check: ${report.final.lostWrites} lost, ${report.final.duplicates} duplicated, ${report.final.staleReads} stale. Processes that exited: ${report.exits.length ? report.exits.join('; ') : 'none'}.`,
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

const BEGIN = '<!-- chaos:begin -->';
const END = '<!-- chaos:end -->';

function writeReliabilityDoc(report: ChaosReport, problems: string[], command: string) {
  const file = join(import.meta.dirname, '..', 'docs', 'reliability.md');
  const section = [
    BEGIN,
    `Latest run: ${report.startedAt.slice(0, 10)}, \`${command}\`, ${report.durationS} s, ${report.options.concurrency} workers, faults held ${report.options.faultMs / 1000} s each, on ${process.platform} with ${availableParallelism()} cores.`,
    '',
    reportTable(report),
    '',
    problems.length === 0 ? 'Every property held.' : `Properties that did not hold:\n\n${problems.map((p) => `- ${p}`).join('\n')}`,
    END,
  ].join('\n');
  const doc = readFileSync(file, 'utf8');
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  const next = start >= 0 && end > start ? doc.slice(0, start) + section + doc.slice(end + END.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  // `npm run check` holds Markdown to Biome's format (aligned tables) too.
  const biome = join(import.meta.dirname, '..', 'node_modules', '.bin', 'biome');
  try {
    execFileSync(biome, ['format', '--write', file], { stdio: 'ignore' });
  } catch {
    console.warn('could not format docs/reliability.md with biome');
  }
}

/** The variant `npm test` runs (tests/chaos/chaos.test.ts): about 80 s on two cores. */
export const SHORT_OPTIONS: ChaosOptions = { faultMs: 5_000, calmMs: 2_000, concurrency: 8, soakMs: 0 };

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
  writeReliabilityDoc(report, problems, short ? 'CHAOS_SHORT=1 npm run chaos' : 'npm run chaos');
  process.exit(problems.length === 0 ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
