/** `runChaos`: the stack on free ports, a user and the probe records, every fault, the soak, the final check. */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort } from '../lib/infra.js';
import { startStack } from '../stack.js';
import { Api } from './api.js';
import { verifyHistory } from './history.js';
import { Ledger } from './ledger.js';
import { Load } from './load.js';
import { faults, type Harness, type Probe, runPhase } from './phases.js';
import { Recorder } from './recorder.js';
import { runSoak } from './soak.js';
import { type ChaosOptions, type ChaosReport, MONGO_DB, type PhaseResult } from './types.js';
import { verify } from './verify.js';

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
    env: { MONGO_DB, LOG_LEVEL: 'warn', AUTH_TOKEN_TTL_SECONDS: '7200', ...CHAOS_ADMIN_ENV },
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
    const probe = await setUp(api);
    const load = new Load(api, ledger, probe.supplierId, options.concurrency, new Recorder('baseline'), { create: 0.15 });
    const harness: Harness = { stack, api, ledger, mongo, load, probe, options, progress };
    for (const fault of faults(stack)) phases.push(await runPhase(harness, fault));
    if (options.soakMs > 0) soak = await runSoak(harness);

    const final = new Recorder('baseline');
    await verify(api, ledger, mongo, final);
    progress('checking the history against the records (the outboxes may take 30 s to settle)');
    const history = await verifyHistory(mongo, ledger);
    return {
      startedAt: new Date(started).toISOString(),
      durationS: Math.round((Date.now() - started) / 1000),
      options: { faultMs: options.faultMs, calmMs: options.calmMs, concurrency: options.concurrency, soakMs: options.soakMs },
      phases,
      soak,
      ledger: { customers: ledger.customers.size, orders: ledger.orders.size, updates: ledger.updates },
      exits,
      final: { lostWrites: final.phase.lostWrites, duplicates: final.phase.duplicates, staleReads: final.phase.staleReads },
      history,
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await mongo.close().catch(() => {});
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The run's first admin: it invites the editor the load runs as. */
const CHAOS_ADMIN = { username: 'chaos_admin', email: 'chaos.admin@example.com', password: randomBytes(12).toString('base64url') };
const CHAOS_ADMIN_ENV = { ADMIN_USERNAME: CHAOS_ADMIN.username, ADMIN_EMAIL: CHAOS_ADMIN.email, ADMIN_PASSWORD: CHAOS_ADMIN.password };

/**
 * Signs a fresh editor up (invited by the run's admin) and in (the token goes on `api`), and makes
 * the supplier and customer the recovery probe uses.
 */
async function setUp(api: Api): Promise<Probe> {
  const admin = await api.call('POST', '/api/auth/login', { username: CHAOS_ADMIN.username, password: CHAOS_ADMIN.password });
  if (admin.status !== 200) throw new Error(`admin login failed: ${admin.status}`);
  api.token = admin.body.accessToken;
  const invite = await api.call('POST', '/api/users/invites', { role: 'editor' });
  if (invite.status !== 201) throw new Error(`invite failed: ${invite.status}`);
  const user = { username: `chaos_${randomBytes(4).toString('hex')}`, email: `chaos.${randomBytes(4).toString('hex')}@example.com` };
  const password = randomBytes(12).toString('base64url');
  const signup = await api.call('POST', '/api/auth/signup', { ...user, password, inviteCode: invite.body.code });
  if (signup.status !== 201) throw new Error(`sign-up failed: ${signup.status}`);
  const login = await api.call('POST', '/api/auth/login', { username: user.username, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  api.token = login.body.accessToken;
  const supplier = await api.call('POST', '/api/suppliers', { name: 'Chaos Supplies' });
  const probeCustomer = await api.call('POST', '/api/customers', { name: 'Chaos probe' });
  if (supplier.status !== 201 || probeCustomer.status !== 201) throw new Error('set-up writes failed');
  return { customerId: probeCustomer.body.id as string, supplierId: supplier.body.id as string };
}
