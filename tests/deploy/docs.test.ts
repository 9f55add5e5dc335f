import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv } from '@pdash/backend-shared/config';
import { expect, test } from 'vitest';

/* docs/operations.md names every variable that a process reads, so that it stays the one list. */

const root = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** The keys of the `z.object({…})` / `.extend({…})` environment schemas in a file. */
const schemaKeys = (file: string) => [...read(file).matchAll(/^\s+([A-Z][A-Z0-9]*_[A-Z0-9_]+): /gm)].map((m) => m[1]!);

test('docs/operations.md documents every environment variable of every process', () => {
  const docs = read('docs/operations.md');
  const variables = new Set([
    ...Object.keys(baseEnv.shape),
    ...['backend/party/main.ts', 'backend/orders/main.ts', 'backend/auth/main.ts', 'bff/src/config.ts'].flatMap(schemaKeys),
  ]);
  expect(variables.size).toBeGreaterThan(20);
  for (const name of variables) expect(docs, name).toContain(`\`${name}\``);
});

test('docs/changing.md names only files and folders that exist (placeholders like <service> aside)', () => {
  const paths = [...read('docs/changing.md').matchAll(/`([\w./-]+\/[\w./-]+)`/g)]
    .map((m) => m[1]!)
    .filter((path) => !path.startsWith('@') && !path.includes('<'));
  expect(paths.length).toBeGreaterThan(20);
  const missing = paths.filter((path) => !existsSync(join(root, path)));
  expect(missing).toEqual([]);
});
