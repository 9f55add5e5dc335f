import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { PortTaken, portIsFree, waitForPort } from './infra.js';

/**
 * Runs a set of processes like a tiny process manager: output prefixed with each one's name,
 * a process that dies restarted with back-off, and everything stopped on SIGINT/SIGTERM.
 */
export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT: `json` passes every line on as the process wrote it (compose, k8s and CI read JSON);
 * `pretty` turns each JSON log record into one readable line. Unset: pretty only on a terminal.
 */
export function logFormatFrom(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): LogFormat {
  const value = env.LOG_FORMAT;
  if (value === undefined || value === '') return isTTY ? 'pretty' : 'json';
  if (value === 'json' || value === 'pretty') return value;
  throw new Error(`LOG_FORMAT must be json or pretty, not "${value}"`);
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS: Record<string, number> = { TRACE: 90, DEBUG: 90, INFO: 32, WARN: 33, ERROR: 31, FATAL: 35 };
/** Fields every record of ours carries (pino's), not worth a place on a readable line. */
const QUIET = new Set(['level', 'time', 'msg', 'message', 'pid', 'hostname', 'name', 'service', 'v']);

/**
 * One JSON log record (pino's, or any with level/time/msg) as one readable line:
 * `12:00:01.234 INFO  orders listening port=50053 host=127.0.0.1`; an error by its message.
 * A line that is not such a record comes back as it is.
 */
export function prettyLogLine(line: string, color = false): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return line;
  const msg = record.msg ?? record.message;
  if (record.level === undefined && msg === undefined) return line;
  const level =
    typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : String(record.level ?? 'INFO').toUpperCase();
  const time = new Date(typeof record.time === 'number' || typeof record.time === 'string' ? record.time : Date.now());
  const clock = Number.isNaN(time.getTime()) ? String(record.time) : time.toISOString().slice(11, 23);
  const fields = Object.entries(record)
    .filter(([key, value]) => !QUIET.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  const levelText = level.padEnd(5);
  const painted = color ? `\x1b[${LEVEL_COLORS[level] ?? 0}m${levelText}\x1b[0m` : levelText;
  return [clock, painted, msg === undefined ? '' : String(msg), ...fields].filter(Boolean).join(' ');
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value && typeof value === 'object' && 'message' in value && typeof value.message === 'string') {
    return JSON.stringify(value.message); // an error (pino's err): its message, not its stack
  }
  return JSON.stringify(value);
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Where it listens: start-up waits for it, and the next process starts only then. */
  port?: number;
}

const COLORS = [36, 33, 35, 32, 34, 31, 96, 93, 95, 92];

export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  /** How to launch each process again (resume after `stop`). */
  private readonly launchers = new Map<string, { launch: () => ChildProcess; port?: number }>();
  /** Processes held down on purpose (`stop`): not restarted until `resume`. */
  private readonly held = new Set<string>();
  private stopping = false;
  private colorIndex = 0;

  /**
   * `write` receives every output line, already prefixed; by default it goes to stdout. `format`
   * says whether JSON log records are passed on as they are or as readable lines.
   */
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly format: LogFormat = 'json',
  ) {}

  async start(spec: ProcessSpec) {
    // Taken already (another program): waiting for the port would find that program, not this one.
    if (spec.port && !(await portIsFree(spec.port))) throw new PortTaken(`port ${spec.port} for ${spec.name} is taken`);
    const color = COLORS[this.colorIndex++ % COLORS.length];
    const prefix = `\x1b[${color}m${spec.name.padEnd(12)}\x1b[0m| `;
    let restarts = 0;
    const launch = () => {
      const startedAt = Date.now();
      const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.set(spec.name, child);
      // Whole lines only: a chunk may end mid-line (a long JSON record), the next one goes on with it.
      const printer = () => {
        let partial = '';
        const emit = (line: string) => {
          if (line.trim()) this.write(`${prefix}${this.format === 'pretty' ? prettyLogLine(line, true) : line}`);
        };
        return {
          data: (chunk: Buffer) => {
            const lines = (partial + chunk.toString()).split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) emit(line);
          },
          end: () => {
            emit(partial);
            partial = '';
          },
        };
      };
      const out = printer();
      const err = printer();
      child.stdout?.on('data', out.data).on('end', out.end);
      child.stderr?.on('data', err.data).on('end', err.end);
      child.on('exit', (code, signal) => {
        if (this.stopping) return;
        if (this.held.has(spec.name)) {
          this.write(`${prefix}stopped on request (${signal ?? code}); held down`);
          return;
        }
        if (Date.now() - startedAt > 30_000) restarts = 0; // it had been running fine
        const delay = Math.min(250 * 2 ** restarts, 10_000);
        restarts++;
        this.write(`${prefix}exited (${signal ?? code}); restarting in ${delay} ms`);
        setTimeout(() => {
          if (!this.stopping) launch();
        }, delay).unref();
      });
      return child;
    };
    const child = launch();
    this.launchers.set(spec.name, { launch, port: spec.port });
    if (spec.port) await waitForPort(spec.port, 60_000, child);
    restarts = 0;
  }

  /**
   * Stops one process and holds it down (no restart) until `resume` (fault injection: "the
   * database is gone for a while"). Resolves once it has exited.
   */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 8_000) {
    const child = this.children.get(name);
    if (!child) throw new Error(`no process named ${name}`);
    this.held.add(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Starts a process held down by `stop` again; resolves once it listens on its port. */
  async resume(name: string) {
    const entry = this.launchers.get(name);
    if (!entry) throw new Error(`no process named ${name}`);
    if (!this.held.delete(name)) return;
    const child = entry.launch();
    if (entry.port) await waitForPort(entry.port, 60_000, child);
  }

  /** The pid of each running process, by name (for RSS sampling). */
  pids(): Record<string, number> {
    const pids: Record<string, number> = {};
    for (const [name, child] of this.children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) pids[name] = child.pid;
    }
    return pids;
  }

  /** Sends a signal to one process (a test's way to make it crash); it is restarted as usual. */
  signal(name: string, signal: NodeJS.Signals) {
    const child = this.children.get(name);
    if (!child) throw new Error(`no process named ${name}`);
    child.kill(signal);
  }

  /** SIGTERM to all, newest first, SIGKILL to what is still running after `graceMs`. */
  async stopAll(graceMs = 8_000) {
    this.stopping = true;
    const running = [...this.children.values()].reverse().filter((c) => c.exitCode === null && c.signalCode === null);
    const exits = running.map((c) => new Promise((resolve) => c.once('exit', resolve)));
    for (const child of running) child.kill('SIGTERM');
    await Promise.race([Promise.all(exits), sleep(graceMs)]);
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
