import { pathToFileURL } from 'node:url';

/** What a started process hands back: how to stop it, and where to log (JSON lines) if it has a logger. */
export interface Running {
  stop(): Promise<unknown>;
  log?: { info(fields: object, msg: string): void; error(fields: object, msg: string): void; fatal(fields: object, msg: string): void };
}

/** True when this module is the one node was started with (`tsx backend/orders/main.ts`), not an import. */
export function isEntryPoint(moduleUrl: string, argv1 = process.argv[1]): boolean {
  return argv1 !== undefined && moduleUrl === pathToFileURL(argv1).href;
}

/**
 * Every pdash process's entry point, in one call: `runMain(import.meta.url, 'orders', start)`.
 * Does nothing when the module was imported (tests, the stack). Otherwise starts the process;
 * a start that fails prints why (`<name> did not start: …`, or `<name> failed: …` for a one-shot)
 * and exits 1. SIGTERM or SIGINT (also while still starting) stops it
 * and exits 0, or 1 when stopping failed; a second signal while stopping exits at once. An
 * uncaught error or unhandled rejection is logged as fatal and exits 1. A one-shot process (a
 * script: `oneShot`) keeps the default signal handling and ends when its work does.
 */
export function runMain(
  moduleUrl: string,
  name: string,
  start: () => Promise<Running | undefined> | Promise<void>,
  options: { oneShot?: boolean } = {},
): Promise<void> | undefined {
  if (!isEntryPoint(moduleUrl)) return undefined;
  let running: Running | undefined;
  const fatal = (err: unknown, msg: string) => {
    if (running?.log) running.log.fatal({ err }, msg);
    else console.error(`${name}: ${msg}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  };
  process.on('uncaughtException', (err) => fatal(err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => fatal(err, 'unhandled rejection'));

  const started = start().then(
    (value) => {
      running = value || undefined;
      return running;
    },
    (err: unknown) => {
      console.error(`${name} ${options.oneShot ? 'failed' : 'did not start'}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
  if (options.oneShot) return started.then(() => undefined);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    void started.then(async (value) => {
      if (!value) process.exit(0);
      if (value.log) value.log.info({ signal }, 'signal received');
      else console.log(`${name}: ${signal}, stopping`);
      try {
        await value.stop();
        process.exit(0);
      } catch (err) {
        if (value.log) value.log.error({ err }, 'shutdown failed');
        else console.error(`${name}: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      }
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return started.then(() => undefined);
}
