import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@pdash/scripts/infra';
import { type StackOptions, startStack } from '@pdash/scripts/stack';
import { inject } from 'vitest';
import { TEST_ADMIN_ENV } from './backend.js';

/**
 * The whole stack as `npm start` runs it (every service its own process, two BFF replicas,
 * Nginx in front) on free ports, against the run's FerretDB in a database of its own.
 * `logs` keeps every output line, for tests that read them.
 */
export async function startTestStack(env: NodeJS.ProcessEnv = {}, options: Pick<StackOptions, 'dashboardRoot'> = {}) {
  // mkdtemp makes it 0700, like a home folder: Nginx must serve and buffer from inside it whoever runs it.
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-test-stack-'));
  const logs: string[] = [];
  const dbName = `stack_${randomBytes(5).toString('hex')}`;
  const stack = await startStack({
    ...options,
    dataDir,
    port: await freePort(),
    freePorts: true,
    mongoUrl: inject('mongoUrl'),
    // Suites that sign up and log in by the hundred (the auth service's own limits are what they
    // test) pass Nginx's per-address auth rate; tests/stack/nginx.test.ts checks it at its default.
    env: {
      MONGO_DB: dbName,
      LOG_LEVEL: 'info',
      AUTH_RATE: '1000',
      AUTH_BURST: '1000',
      // Through Nginx every test client is 127.0.0.1: sign-ups per address would be every test's.
      AUTH_SIGNUP_MAX_PER_ADDRESS: '100000',
      SIGNUP_MODE: 'open',
      ...TEST_ADMIN_ENV,
      ...env,
    },
    log: (line) => {
      logs.push(line);
      if (process.env.TEST_STACK_LOGS) console.log(line);
    },
  });
  return {
    ...stack,
    logs,
    /** The stack's database (MONGO_DB) in the run's FerretDB. */
    dbName,
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;
