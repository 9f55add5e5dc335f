import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Starting pdash's infrastructure as our own child processes: FerretDB (MongoDB wire protocol on
 * SQLite files) and Redis, on loopback ports we choose. Used by the local stack and by tests.
 * `scripts/install-infra.sh` installs the binaries.
 */
export const FERRETDB_VERSION = 'v1.24.2';
/**
 * Our build of it: FERRETDB_VERSION with the fixes in scripts/install-infra.sh (its `_id` lookups use
 * the `_id` index; filters, sorts, limits and counts run in SQLite through our indexes where that is
 * exact: scripts/ferretdb/pushdown.patch).
 */
export const FERRETDB_BUILD = `${FERRETDB_VERSION}-pdash4`;

export function ferretdbBinary() {
  const dir = process.env.PDASH_TOOLS_DIR ?? join(homedir(), '.local/share/pdash');
  const bin = join(dir, 'bin', `ferretdb-${FERRETDB_BUILD}`);
  if (!existsSync(bin)) throw new Error(`FerretDB is not installed at ${bin}: run \`npm run infra:install\``);
  return bin;
}

/** A port that was free a moment ago on 127.0.0.1. */
/** Ports this process has handed out: the kernel may offer one again before its taker has bound it. */
const handedOut = new Set<number>();

/**
 * A port free on loopback now, never one this process handed out before (a stack picks all its
 * ports before its processes bind them; the same port twice made one of them fail to start).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Whether nothing listens on this loopback port right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Thrown when a port picked for a process is already someone else's (stack.ts picks again). */
export class PortTaken extends Error {}

export async function waitForPort(port: number, timeoutMs = 15_000, child?: ChildProcess) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode} before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** A server process we started, which can be stopped, killed and started again on the same port. */
export class ServerProcess {
  child?: ChildProcess;
  private output = '';

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly command: string,
    private readonly args: string[],
    private readonly onOutput?: (line: string) => void,
  ) {}

  async start() {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-4_000);
      if (this.onOutput) for (const line of text.split('\n')) if (line.trim()) this.onOutput(line);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    try {
      await waitForPort(this.port, 20_000, child);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${this.name} did not start: ${(err as Error).message}\n${this.output}`);
    }
    return this;
  }

  /** Stops the process (SIGTERM, then SIGKILL after a grace period), or kills it outright. */
  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  kill() {
    return this.stop('SIGKILL');
  }

  async restart() {
    await this.stop();
    return this.start();
  }
}

export class FerretDB extends ServerProcess {
  get url() {
    return `mongodb://127.0.0.1:${this.port}/`;
  }
}

export class RedisServer extends ServerProcess {
  get url() {
    return `redis://127.0.0.1:${this.port}/`;
  }
}

/** FerretDB with its SQLite backend: data files under `dataDir`; no telemetry, no debug port. */
export async function startFerretDB(options: { dataDir: string; port?: number; onOutput?: (line: string) => void }) {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${options.dataDir}/`,
    `--state-dir=${options.dataDir}`,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=warn',
  ];
  return new FerretDB('ferretdb', port, ferretdbBinary(), args, options.onOutput).start();
}

/** redis-server on loopback; with a dataDir it snapshots there, without one it keeps nothing. */
export async function startRedis(options: { dataDir?: string; port?: number; onOutput?: (line: string) => void } = {}) {
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--daemonize', 'no', '--appendonly', 'no'];
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--dir', options.dataDir, '--save', '60 1');
  } else {
    args.push('--save', '');
  }
  return new RedisServer('redis', port, 'redis-server', args, options.onOutput).start();
}
