import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkBoundaries } from '@pdash/scripts/boundaries';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('the house as the imports draw it', () => {
  test('no import leaves its package, every import is declared, no source file over 400 lines, no import circle', () => {
    expect(checkBoundaries(root)).toEqual({ crossing: [], undeclared: [], long: [], cycles: [] });
  });

  test('the check finds each kind of breach', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdash-boundaries-'));
    // Written as joined words, so that this file's own text holds no import for the check to read.
    const imp = (what: string, spec: string) => `${['import', what, 'from', `'${spec}'`].join(' ')};\n`;
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    try {
      put('package.json', JSON.stringify({ name: 'root', devDependencies: { vitest: '*' } }));
      put('a/package.json', JSON.stringify({ name: '@x/a', dependencies: { zod: '*' } }));
      put('b/package.json', JSON.stringify({ name: '@x/b' }));
      put('a/ok.ts', imp('{ z }', 'zod') + imp('{ x }', './other.js'));
      put('a/cross.ts', imp('{ y }', '../b/y.js'));
      put('a/phantom.ts', imp('pino', 'pino'));
      put('a/long.ts', 'const a = 1;\n'.repeat(401));
      put('a/fine.test.ts', imp('{ test }', 'vitest') + '//\n'.repeat(500));
      // A circle through a package import by name: a/ring1 -> @x/b (b/index.ts) -> a? No: b may not
      // import a by path, so the circle stays inside a, one step of it through a type import.
      put('a/ring1.ts', imp('{ two }', './ring2.js'));
      put('a/ring2.ts', imp('type { One }', './ring3.js'));
      put('a/ring3.ts', imp('{ one }', './ring1.js'));
      expect(checkBoundaries(dir)).toEqual({
        crossing: ['a/cross.ts -> ../b/y.js'],
        undeclared: ['a/phantom.ts: pino (not in a/package.json)'],
        long: ['a/long.ts: 402 lines'],
        cycles: ['a/ring1.ts -> a/ring2.ts -> a/ring3.ts -> a/ring1.ts'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
