import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@pdash/scripts/infra';
import { startStack } from '@pdash/scripts/stack';
import { inject } from 'vitest';

/**
 * The whole stack as `npm start` runs it (every service its own process, two BFF replicas,
 * Nginx in front) on free ports, against the run's FerretDB in a database of its own.
 * `logs` keeps every output line, for tests that read them.
 */
export async function startTestStack(env: NodeJS.ProcessEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-test-stack-'));
  // As root, Nginx's workers run as nobody: they must reach their temp folder inside (large bodies).
  chmodSync(dataDir, 0o755);
  const logs: string[] = [];
  const stack = await startStack({
    dataDir,
    port: await freePort(),
    freePorts: true,
    mongoUrl: inject('mongoUrl'),
    env: { MONGO_DB: `stack_${randomBytes(5).toString('hex')}`, LOG_LEVEL: 'info', ...env },
    log: (line) => {
      logs.push(line);
      if (process.env.TEST_STACK_LOGS) console.log(line);
    },
  });
  return {
    ...stack,
    logs,
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;
