import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@pdash/scripts/infra';
import { type StackOptions, startStack } from '@pdash/scripts/stack';
import { inject } from 'vitest';

/**
 * The whole stack as `npm start` runs it (every service its own process, two BFF replicas,
 * Nginx in front) on free ports, against the run's FerretDB in a database of its own.
 * `logs` keeps every output line, for tests that read them.
 */
export async function startTestStack(env: NodeJS.ProcessEnv = {}, options: Pick<StackOptions, 'dashboardRoot'> = {}) {
  // mkdtemp makes it 0700, like a home folder: Nginx must serve and buffer from inside it whoever runs it.
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-test-stack-'));
  const logs: string[] = [];
  const stack = await startStack({
    ...options,
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
