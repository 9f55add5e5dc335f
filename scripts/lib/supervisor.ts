import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForPort } from './infra.js';

/**
 * Runs a set of processes like a tiny process manager: output prefixed with each one's name,
 * a process that dies restarted with back-off, and everything stopped on SIGINT/SIGTERM.
 */
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

  /** `write` receives every output line, already prefixed; by default it goes to stdout. */
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  async start(spec: ProcessSpec) {
    const color = COLORS[this.colorIndex++ % COLORS.length];
    const prefix = `\x1b[${color}m${spec.name.padEnd(12)}\x1b[0m| `;
    let restarts = 0;
    const launch = () => {
      const startedAt = Date.now();
      const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.set(spec.name, child);
      const print = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) this.write(`${prefix}${line}`);
      };
      child.stdout?.on('data', print);
      child.stderr?.on('data', print);
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
