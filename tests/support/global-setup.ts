import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FerretDB, startFerretDB } from '@pdash/scripts/infra';
import type { TestProject } from 'vitest/node';

/**
 * One real FerretDB for the whole run; every test file works in a database of its own.
 * (Redis is cheap to start, so files start their own: some of them kill it on purpose.)
 */
let ferret: FerretDB | undefined;
let dataDir: string | undefined;

export async function setup(project: TestProject) {
  dataDir = mkdtempSync(join(tmpdir(), 'pdash-test-ferretdb-'));
  ferret = await startFerretDB({ dataDir });
  project.provide('mongoUrl', ferret.url);
}

export async function teardown() {
  await ferret?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
  }
}
