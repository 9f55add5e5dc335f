/**
 * The whole local topology, declared in one place: FerretDB and Redis (unless MONGO_URL /
 * REDIS_URL point elsewhere), the four gRPC services, two BFF replicas and Nginx in front.
 *
 * `npm start` runs it (this file executed directly); tests and benchmarks import `startStack` to
 * run the same topology on free ports. Every child is supervised: output prefixed with its name,
 * restarted with back-off when it dies, stopped on Ctrl-C / SIGTERM.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDashboardBuild } from '@pdash/dashboard/build';
import { createClient } from './lib/client.js';
import { ferretdbBinary, freePort } from './lib/infra.js';
import { NGINX_BIN, renderNginxConfig } from './lib/nginx.js';
import { type ProcessSpec, Supervisor } from './lib/supervisor.js';
import { BACKEND_SERVICES, type BackendService, backendSpecs, DEFAULT_PORTS, tsxProcess } from './lib/topology.js';
import { DEMO_USER, loginOrSignUp, seed } from './seed.js';

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
}

export async function startStack(options: StackOptions) {
  const { dataDir } = options;
  const pick = async (fixed: number) => (options.freePorts ? freePort() : fixed);
  const mongoPort = await pick(27018);
  const redisPort = await pick(6380);
  const mongoUrl = options.mongoUrl ?? `mongodb://127.0.0.1:${mongoPort}/`;
  const redisUrl = options.redisUrl ?? `redis://127.0.0.1:${redisPort}/`;
  const servicePorts = {} as Record<BackendService, number>;
  for (const name of BACKEND_SERVICES) servicePorts[name] = await pick(DEFAULT_PORTS[name]);
  const bffPorts: number[] = [];
  for (let i = 0; i < (options.replicas ?? 2); i++) bffPorts.push(await pick(3001 + i));
  const env = { AUTH_KEY_FILE: join(dataDir, 'auth', 'dev-signing-key.pem'), ...options.env };

  const topology: ProcessSpec[] = [];
  if (!options.mongoUrl) {
    const dir = join(dataDir, 'ferretdb');
    mkdirSync(dir, { recursive: true });
    topology.push({
      name: 'ferretdb',
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
    topology.push({
      name: 'redis',
      command: 'redis-server',
      args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '60 1', '--appendonly', 'no'],
      port: redisPort,
    });
  }
  topology.push(...backendSpecs({ mongoUrl, redisUrl, ports: servicePorts, env }));
  bffPorts.forEach((port, i) => {
    topology.push({
      name: `bff-${i + 1}`,
      ...tsxProcess('bff/src/main.ts'),
      env: {
        BFF_PORT: String(port),
        BFF_REPLICA_NAME: `bff-${i + 1}`,
        CUSTOMERS_ADDR: `127.0.0.1:${servicePorts.customers}`,
        SUPPLIERS_ADDR: `127.0.0.1:${servicePorts.suppliers}`,
        ORDERS_ADDR: `127.0.0.1:${servicePorts.orders}`,
        AUTH_ADDR: `127.0.0.1:${servicePorts.auth}`,
        ...env,
      },
      port,
    });
  });
  const dashboardBuild = join(root, 'dashboard', 'dist');
  const nginx = renderNginxConfig({
    listenPort: options.port,
    bffPorts,
    dashboardRoot: existsSync(join(dashboardBuild, 'index.html')) ? dashboardBuild : join(root, 'nginx', 'placeholder'),
    runtimeDir: join(dataDir, 'nginx'),
  });
  topology.push({ name: 'nginx', command: NGINX_BIN, args: nginx.args, port: options.port });

  const supervisor = new Supervisor(options.log);
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

/** The demo user, and a small data set on first start (when there are no customers yet). */
async function seedDemoData(url: string) {
  const token = await loginOrSignUp(url, DEMO_USER);
  const client = createClient(url, () => token);
  if ((await client.customers.list.query({ limit: 1 })).total > 0) return false;
  await seed(client, { customers: 20, suppliers: 8, orders: 120 });
  return true;
}

async function main() {
  try {
    ensureDashboardBuild();
  } catch (err) {
    // A broken build must not keep the API from starting: Nginx serves the previous build (or a placeholder).
    console.error((err as Error).message);
  }
  const port = Number(process.env.PDASH_PORT ?? 8080);
  const stackPromise = startStack({
    dataDir: join(root, '.data'),
    port,
    mongoUrl: process.env.MONGO_URL,
    redisUrl: process.env.REDIS_URL,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping pdash…');
    await (await stackPromise.catch(() => undefined))?.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const stack = await stackPromise;
    const seeded = await seedDemoData(stack.url);
    console.log(`\npdash is up: ${stack.url}  (API docs: ${stack.url}/api/docs)`);
    console.log(`demo login: ${DEMO_USER.username} / ${DEMO_USER.password}${seeded ? ' (demo data seeded)' : ''}\n`);
  } catch (err) {
    console.error(`pdash did not start: ${(err as Error).message}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
