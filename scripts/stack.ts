/**
 * The whole local topology (scripts/lib/topology.ts, the one table): FerretDB and Redis (unless
 * MONGO_URL / REDIS_URL point elsewhere), the four gRPC services, two BFF replicas and Nginx in front.
 *
 * `npm start` runs it (this file executed directly); tests and benchmarks import `startStack` to
 * run the same topology on free ports. Every child is supervised: output prefixed with its name
 * (readable lines on a terminal, JSON otherwise: LOG_FORMAT), restarted with back-off when it
 * dies, stopped on Ctrl-C / SIGTERM.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '@pdash/backend-shared/main';
import { ensureDashboardBuild } from '@pdash/dashboard/build';
import { createClient } from './lib/client.js';
import { importDemoHistory } from './lib/demo-history.js';
import { ferretdbBinary, freePort, PortTaken } from './lib/infra.js';
import { renderNginxConfig } from './lib/nginx.js';
import { type LogFormat, logFormatFrom, type ProcessSpec, Supervisor } from './lib/supervisor.js';
import {
  BACKEND_SERVICES,
  type BackendService,
  backendSpecs,
  loopbackAddresses,
  type Name,
  startOrder,
  TOPOLOGY,
  tsxProcess,
} from './lib/topology.js';
import { DEMO_ADMIN_ENV, DEMO_USER, loginOrSignUp } from './seed.js';

const root = join(import.meta.dirname, '..');

export interface StackOptions {
  /** Folder for FerretDB and Redis data, Nginx's runtime files and the dev signing key. */
  dataDir: string;
  /** Nginx's port; the only one users talk to. */
  port: number;
  mongoUrl?: string;
  redisUrl?: string;
  /** 0 for every port means "pick free ones" (tests); otherwise the fixed defaults. */
  freePorts?: boolean;
  replicas?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** JSON log records as they are (the default) or as readable lines. */
  logFormat?: LogFormat;
  /** The dashboard build Nginx serves; by default dashboard/dist, or a placeholder page without one. */
  dashboardRoot?: string;
}

/**
 * Starts the stack. With picked ports, a port that another program took between the pick and the
 * start (test files run side by side, each picking its own) means starting again on new ones.
 */
export async function startStack(options: StackOptions) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (err) {
      const portTrouble = err instanceof PortTaken || /EADDRINUSE|before listening on/.test(String((err as Error)?.message));
      if (!options.freePorts || !portTrouble || attempt >= 3) throw err;
      options.log?.(`stack: ${(err as Error).message}; starting again on other ports`);
    }
  }
}

async function startStackOnce(options: StackOptions) {
  const { dataDir } = options;
  const pick = async (fixed: number) => (options.freePorts ? freePort() : fixed);
  const mongoPort = await pick(TOPOLOGY.mongo.port);
  const redisPort = await pick(TOPOLOGY.redis.port);
  const mongoUrl = options.mongoUrl ?? `mongodb://127.0.0.1:${mongoPort}/`;
  const redisUrl = options.redisUrl ?? `redis://127.0.0.1:${redisPort}/`;
  const servicePorts = {} as Record<BackendService, number>;
  for (const name of BACKEND_SERVICES) servicePorts[name] = await pick(TOPOLOGY[name].port);
  const bffPorts: number[] = [];
  for (let i = 0; i < (options.replicas ?? TOPOLOGY.bff.replicas ?? 1); i++) bffPorts.push(await pick(TOPOLOGY.bff.port + i));
  const env = { AUTH_KEY_FILE: join(dataDir, 'auth', 'dev-signing-key.pem'), ...options.env };

  const processes: Record<Name, ProcessSpec[]> = {
    mongo: [],
    redis: [],
    customers: [],
    suppliers: [],
    orders: [],
    auth: [],
    bff: [],
    nginx: [],
  };
  if (!options.mongoUrl) {
    const dir = join(dataDir, 'ferretdb');
    mkdirSync(dir, { recursive: true });
    processes.mongo.push({
      name: TOPOLOGY.mongo.localName ?? 'mongo',
      command: ferretdbBinary(),
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${mongoPort}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      port: mongoPort,
    });
  }
  if (!options.redisUrl) {
    const dir = join(dataDir, 'redis');
    mkdirSync(dir, { recursive: true });
    processes.redis.push({
      name: 'redis',
      command: TOPOLOGY.redis.entry,
      args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '60 1', '--appendonly', 'no'],
      port: redisPort,
    });
  }
  // Picked ports each get a metrics port picked too: port + 1000 could be another process's pick.
  let metricsPorts: Record<BackendService, number> | undefined;
  if (options.freePorts) {
    metricsPorts = {} as Record<BackendService, number>;
    for (const name of BACKEND_SERVICES) metricsPorts[name] = await freePort();
  }
  for (const spec of backendSpecs({ mongoUrl, redisUrl, ports: servicePorts, metricsPorts, env }))
    processes[spec.name as BackendService].push(spec);
  processes.bff = bffPorts.map((port, i) => ({
    name: `bff-${i + 1}`,
    ...tsxProcess(TOPOLOGY.bff.entry),
    env: { BFF_PORT: String(port), BFF_REPLICA_NAME: `bff-${i + 1}`, ...loopbackAddresses(servicePorts), ...env },
    port,
  }));
  const dashboardBuild = join(root, 'dashboard', 'dist');
  const nginx = renderNginxConfig({
    listenPort: options.port,
    bffPorts,
    dashboardRoot:
      options.dashboardRoot ?? (existsSync(join(dashboardBuild, 'index.html')) ? dashboardBuild : join(root, 'nginx', 'placeholder')),
    runtimeDir: join(dataDir, 'nginx'),
    hosts: options.env?.PDASH_HOSTS ?? process.env.PDASH_HOSTS,
    trustedProxies: options.env?.TRUSTED_PROXIES ?? process.env.TRUSTED_PROXIES,
    authRate: options.env?.AUTH_RATE ?? process.env.AUTH_RATE,
    authBurst: options.env?.AUTH_BURST ?? process.env.AUTH_BURST,
  });
  processes.nginx.push({ name: 'nginx', command: TOPOLOGY.nginx.entry, args: nginx.args, port: options.port });
  // Each after what it depends on, as the table says.
  const topology = startOrder().flatMap((name) => processes[name]);

  const supervisor = new Supervisor(options.log, options.logFormat);
  try {
    for (const spec of topology) await supervisor.start(spec);
    const url = `http://127.0.0.1:${options.port}`;
    await waitForHealth(url);
    return { url, supervisor, mongoUrl, redisUrl, servicePorts, bffPorts, stop: () => supervisor.stopAll() };
  } catch (err) {
    await supervisor.stopAll();
    throw err;
  }
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

async function waitForHealth(url: string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url}/healthz did not answer 200 within ${timeoutMs} ms`);
}

/** The demo user (the first admin), and the demo history on first start (when there are no orders yet). */
async function seedDemoData(url: string) {
  const token = await loginOrSignUp(url, DEMO_USER);
  const client = createClient(url, () => token);
  if ((await client.orders.list.query({ limit: 1 })).total > 0) return false;
  // 90 days of orders through the CSV import, so the Stats page has a history to show.
  await importDemoHistory(url, token);
  return true;
}

runMain(import.meta.url, 'pdash', async () => {
  const logFormat = logFormatFrom();
  try {
    ensureDashboardBuild();
  } catch (err) {
    // A broken build must not keep the API from starting: Nginx serves the previous build (or a placeholder).
    console.error((err as Error).message);
  }
  const stack = await startStack({
    dataDir: join(root, '.data'),
    port: Number(process.env.PDASH_PORT ?? TOPOLOGY.nginx.port),
    mongoUrl: process.env.MONGO_URL,
    redisUrl: process.env.REDIS_URL,
    logFormat,
    // The demo user is the first admin, unless ADMIN_* name another.
    env: process.env.ADMIN_USERNAME ? {} : DEMO_ADMIN_ENV,
  });
  try {
    const seeded = await seedDemoData(stack.url);
    console.log(`\npdash is up: ${stack.url}  (API docs: ${stack.url}/api/docs)`);
    console.log(`demo login (admin): ${DEMO_USER.username} / ${DEMO_USER.password}${seeded ? ' (demo data seeded)' : ''}\n`);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    stop: async () => {
      console.log('stopping pdash…');
      await stack.stop();
    },
  };
});
