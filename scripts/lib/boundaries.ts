import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/*
 * The house rules the imports draw, checked over the source tree (npm test runs it):
 *  1. no relative import leaves its own workspace package: packages talk by name and `exports`;
 *  2. every bare import is declared in the importing package's package.json (test files may use the
 *     root's devDependencies);
 *  3. no hand-written source file over 400 lines (tests and generated code aside).
 */

const SKIP = /(^|\/)(node_modules|gen|dist|build-next|\.tmp|\.data|coverage|bench-results)(\/|$)/;
const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const TEST = /(\.test\.|\.spec\.|(^|\/)tests?\/|test-support|test-setup|__mocks__|vitest\.config|vite\.config)/;
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
export const MAX_LINES = 400;

export interface Boundaries {
  crossing: string[];
  undeclared: string[];
  long: string[];
}

export function checkBoundaries(root: string): Boundaries {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.startsWith('.') || SKIP.test(relative(root, path))) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (SOURCE.test(name) && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(root);

  const homes = new Map<string, string>();
  const packageOf = (path: string): string => {
    let dir = dirname(path);
    while (dir.startsWith(root)) {
      const known = homes.get(dir);
      if (known) return known;
      if (existsSync(join(dir, 'package.json'))) {
        homes.set(dir, dir);
        return dir;
      }
      dir = dirname(dir);
    }
    return root;
  };
  const manifests = new Map<string, { name: string; deps: Set<string> }>();
  const manifest = (dir: string) => {
    let m = manifests.get(dir);
    if (!m) {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const deps = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((k) =>
        Object.keys(json[k] ?? {}),
      );
      m = { name: json.name, deps: new Set(deps) };
      manifests.set(dir, m);
    }
    return m;
  };
  const builtins = new Set(builtinModules);
  const result: Boundaries = { crossing: [], undeclared: [], long: [] };

  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const home = packageOf(file);
    const rel = relative(root, file);
    const isTest = TEST.test(rel);
    for (const match of source.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? '';
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (packageOf(join(target, 'x')) !== home && packageOf(target) !== home) result.crossing.push(`${rel} -> ${spec}`);
        continue;
      }
      if (spec.startsWith('node:') || spec.startsWith('virtual:') || spec.startsWith('/') || builtins.has(spec.split('/')[0] ?? ''))
        continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
      const own = manifest(home);
      if (name === own.name || own.deps.has(name) || (isTest && manifest(root).deps.has(name))) continue;
      result.undeclared.push(`${rel}: ${name} (not in ${relative(root, home) || '.'}/package.json)`);
    }
    const lines = source.split('\n').length;
    if (!isTest && lines > MAX_LINES) result.long.push(`${rel}: ${lines} lines`);
  }
  return result;
}
