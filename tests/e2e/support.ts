/** What the end-to-end files share: the stack with a first admin, headless Chromium, a tRPC client. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppRouter } from '@pdash/bff';
import { ensureDashboardBuild } from '@pdash/dashboard/build';
import { freePort } from '@pdash/scripts/infra';
import { startStack } from '@pdash/scripts/stack';
import { createTRPCClient, httpLink } from '@trpc/client';
import { chromium } from 'playwright-core';

export const root = join(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(root, '.tmp', 'screenshots');

/** Debian's Chromium, headless, sending nothing anywhere but loopback. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchChromium = () => chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });

/**
 * The whole stack as `npm start` runs it, on free ports, in a data folder of its own, serving a
 * fresh dashboard build, with `admin` as its first admin (ADMIN_*). `stop` removes the folder too.
 */
export async function startE2eStack(admin: { username: string; email: string; password: string }, log: (line: string) => void) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  ensureDashboardBuild(log);
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-e2e-'));
  const stack = await startStack({
    dataDir,
    port: await freePort(),
    freePorts: true,
    env: { LOG_LEVEL: 'warn', ADMIN_USERNAME: admin.username, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
    log,
  }).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...stack,
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type E2eStack = Awaited<ReturnType<typeof startE2eStack>>;

/** A typed tRPC client of the stack, as a script would make it. */
export const apiClient = (url: string, token?: string) =>
  createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
