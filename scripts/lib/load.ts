import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { type BenchResult, percentile, round, runCase } from './bench.js';

/**
 * The HTTP load client of `npm run bench`, the same for the floor rows and ours: node:http over
 * keep-alive connections (one http.Agent with maxSockets 1 per connection), each connection
 * sending its requests one after the other, every request timed on its own (runCase: hrtime-based
 * performance.now around each). At concurrency 1 that is one connection, sequential requests.
 */
export interface HttpTarget {
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Abandon a request after this long (autocannon's default timeout, as the bench had before). */
const TIMEOUT_MS = 10_000;

/** One keep-alive connection (from `localAddress`, a loopback address, when given). */
export function keepAliveConnection(target: HttpTarget, localAddress?: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers: Record<string, string | number> = { ...target.headers };
  if (target.body !== undefined) headers['content-length'] = Buffer.byteLength(target.body);
  const send = (path = target.path) =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { agent, host: '127.0.0.1', port: target.port, path, method: target.method ?? 'GET', headers, localAddress },
        (res) => {
          const status = res.statusCode ?? 0;
          res.on('end', () => (status >= 200 && status < 300 ? resolve() : reject(new Error(`HTTP ${status}`))));
          res.on('error', reject);
          res.resume();
        },
      );
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(target.body);
    });
  return { send, close: () => agent.destroy() };
}

/**
 * Each connection of a case comes from its own loopback address (127.0.0.2, .3, …), as that many
 * clients would: Nginx picks a replica by client address and credentials (nginx/nginx.conf), so
 * 64 connections from one address all land on one replica.
 */
export const clientAddress = (connection: number) => `127.0.0.${2 + connection}`;

export interface HttpCase {
  name: string;
  concurrency: number;
  durationMs: number;
  target: HttpTarget;
  /** Called once the warm-up is over and once the measured run has ended (CPU accounting). */
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

/** A closed loop of `concurrency` keep-alive connections for `durationMs` (after runCase's warm-up). */
export async function runHttpCase(bench: HttpCase): Promise<BenchResult> {
  const connections = Array.from({ length: bench.concurrency }, (_, i) => keepAliveConnection(bench.target, clientAddress(i)));
  let firstError: unknown;
  const call = (worker: number) =>
    connections[worker]!.send().catch((err) => {
      firstError ??= err;
      throw err;
    });
  try {
    const result = await runCase({ ...bench, call });
    if (firstError) console.error(`${bench.name} @${bench.concurrency}: ${result.errors} errors, the first: ${String(firstError)}`);
    return result;
  } finally {
    for (const connection of connections) connection.close();
  }
}

/**
 * Each path requested exactly once, one after the other on one keep-alive connection (the first
 * `unrecorded` only warm the connection); p50 and p99 of the rest.
 */
export async function runOnceEach(name: string, target: HttpTarget, paths: string[], unrecorded = 0): Promise<BenchResult> {
  const connection = keepAliveConnection(target, clientAddress(0));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  try {
    for (const [i, path] of paths.entries()) {
      const t0 = performance.now();
      try {
        await connection.send(path);
        if (i >= unrecorded) latencies.push(performance.now() - t0);
      } catch {
        if (i >= unrecorded) errors++;
      }
    }
  } finally {
    connection.close();
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    concurrency: 1,
    requests: latencies.length + errors,
    errors,
    rps: Math.round(paths.length / elapsed),
    p50: round(percentile(latencies, 0.5)),
    p99: round(percentile(latencies, 0.99)),
  };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (user + system, µs) of each named process and all its descendants (Nginx's workers). */
export function cpuTimes(pids: Record<string, number>): Record<string, number> {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command name (which may hold spaces and parentheses): state, ppid, … utime, stime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    const ppid = Number(fields[1]);
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const total = (pid: number): number => (ticks.get(pid) ?? 0) + (children.get(pid) ?? []).reduce((sum, child) => sum + total(child), 0);
  const times: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) times[name] = (total(pid) * 1e6) / CLOCK_TICKS;
  // This process is the load client: its own clock is finer than /proc's ticks.
  const self = process.cpuUsage();
  times['load client'] = self.user + self.system;
  return times;
}

/** Starts counting the CPU of these processes; `end(requests)` gives µs per request of each. */
export function cpuPerRequest(pids: () => Record<string, number>) {
  let before: Record<string, number> = {};
  let after: Record<string, number> = {};
  return {
    start: () => {
      before = cpuTimes(pids());
    },
    stop: () => {
      after = cpuTimes(pids());
    },
    perRequest: (requests: number) =>
      Object.fromEntries(
        Object.keys(after)
          .filter((name) => name in before)
          .map((name) => [name, Math.round((after[name]! - before[name]!) / Math.max(1, requests))]),
      ),
  };
}
