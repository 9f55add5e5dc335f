import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/*
 * The house rules the imports draw, checked over the source tree (npm test runs it):
 *  1. no relative import leaves its own workspace package: packages talk by name and `exports`;
 *  2. every bare import is declared in the importing package's package.json (test files may use the
 *     root's devDependencies);
 *  3. no hand-written source file over 400 lines (tests and generated code aside);
 *  4. no import circle among source files (tests aside), following relative imports and imports of
 *     workspace packages by name through their `exports` (what `madge --circular` reports).
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
  cycles: string[];
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
  const result: Boundaries = { crossing: [], undeclared: [], long: [], cycles: [] };
  const workspaces = new Map<string, { dir: string; exports: Exports }>();
  for (const dir of new Set(files.map(packageOf))) {
    const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (json.name && typeof json.exports === 'object') workspaces.set(json.name, { dir, exports: json.exports });
  }
  const known = new Set(files);
  const graph = new Map<string, string[]>();

  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const home = packageOf(file);
    const rel = relative(root, file);
    const isTest = TEST.test(rel);
    const edges: string[] = [];
    if (!isTest) graph.set(file, edges);
    for (const match of source.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? '';
      const target = isTest ? undefined : resolveImport(file, spec, workspaces);
      if (target && known.has(target)) edges.push(target);
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
  result.cycles = cyclesOf(graph).map((cycle) => cycle.map((file) => relative(root, file)).join(' -> '));
  return result;
}

const EXTENSIONS = ['', '.ts', '.tsx', '/index.ts', '/index.tsx'];
type Exports = Record<string, string | Record<string, string>>;

/** The file an import names, for relative imports and workspace packages (`.js` written for `.ts`). */
function resolveImport(from: string, spec: string, workspaces: Map<string, { dir: string; exports: Exports }>) {
  let base: string | undefined;
  if (spec.startsWith('.')) base = resolve(dirname(from), spec);
  else {
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    const workspace = workspaces.get(name);
    if (!workspace) return undefined;
    const subpath = `.${spec.slice(name.length)}`;
    for (const [key, entry] of Object.entries(workspace.exports)) {
      // `"./x": "./x.ts"`, or with conditions: `"./x": { "types": …, "import": …, "default": … }`.
      const value = typeof entry === 'string' ? entry : (entry.import ?? entry.default ?? Object.values(entry)[0]);
      if (typeof value !== 'string') continue;
      if (key === subpath) base = join(workspace.dir, value);
      else if (key.endsWith('*') && subpath.startsWith(key.slice(0, -1)))
        base = join(workspace.dir, value.replace('*', subpath.slice(key.length - 1)));
      if (base) break;
    }
    if (!base) return undefined;
  }
  const stem = base.replace(/\.(js|mjs)$/, '');
  for (const candidate of [base, ...EXTENSIONS.map((ext) => stem + ext)]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every import circle, once each, starting at its first file in sort order. */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const first = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        cycles.set(rotated.join('\0'), [...rotated, rotated[0]!]);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}
