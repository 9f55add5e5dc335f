import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, it } from 'vitest';

/** The committed TypeScript must be exactly what `npm run proto` makes from the .proto files. */
const protoDir = import.meta.dirname;
const fresh = mkdtempSync(join(tmpdir(), 'pdash-proto-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

it('committed generated code matches the .proto files', () => {
  execFileSync(join(protoDir, '../node_modules/.bin/buf'), ['generate', '--output', fresh], { cwd: protoDir, stdio: 'pipe' });
  const committed = join(protoDir, 'gen');
  const generated = join(fresh, 'gen');
  const names = (dir: string) =>
    files(dir)
      .map((f) => relative(dir, f))
      .sort();
  expect(names(committed)).toEqual(names(generated));
  for (const name of names(generated)) {
    expect(readFileSync(join(committed, name), 'utf8'), `${name} is stale: run \`npm run proto\``).toBe(
      readFileSync(join(generated, name), 'utf8'),
    );
  }
});

it('the .proto files pass buf lint', () => {
  execFileSync(join(protoDir, '../node_modules/.bin/buf'), ['lint'], { cwd: protoDir, stdio: 'pipe' });
});
