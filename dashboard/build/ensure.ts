import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/*
 * Builds the dashboard when dashboard/dist is missing or older than its sources, so that whoever
 * serves it (the e2e test, `npm start`) serves the current code. `tsx dashboard/build/ensure.ts`.
 */

const dashboard = join(import.meta.dirname, '..');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json', 'build/sizes.ts'];

/**
 * The folders of the workspace packages the dashboard bundles (`@pdash/*` among its runtime
 * dependencies, e.g. the form rules of @pdash/contracts): a change there changes the build as much
 * as one in src. (@pdash/bff, a dev dependency, gives types only.)
 */
function workspaceSources(): string[] {
  const json = JSON.parse(readFileSync(join(dashboard, 'package.json'), 'utf8'));
  const names = Object.keys(json.dependencies ?? {}).filter((name) => name.startsWith('@pdash/'));
  return names.flatMap((name) => {
    const link = join(dashboard, '..', 'node_modules', name);
    return existsSync(link) ? [realpathSync(link)] : [];
  });
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return /\.test\.tsx?$|test-setup\.ts$/.test(path) ? 0 : stat.mtimeMs;
  if (/(^|\/)(node_modules|dist|\.tmp)$/.test(path)) return 0;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** When the newest file the build is made from last changed (ms). */
export function newestSourceMtime(): number {
  return Math.max(...SOURCES.map((name) => newestMtime(join(dashboard, name))), ...workspaceSources().map((dir) => newestMtime(dir)));
}

export function dashboardBuildIsStale(): boolean {
  const built = join(dashboard, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  return newestSourceMtime() > statSync(built).mtimeMs;
}

/**
 * Returns whether it built. Throws with vite's output when the build fails. The build is made
 * beside dist and swapped in, so an Nginx serving dist meanwhile never sees half a build.
 */
export function ensureDashboardBuild(log: (line: string) => void = console.log): boolean {
  if (!dashboardBuildIsStale()) return false;
  log('dashboard: building (dist is missing or older than the sources)…');
  const next = join(dashboard, '.tmp', 'dist-next');
  const result = spawnSync('npm', ['run', 'build', '-w', '@pdash/dashboard', '--', '--outDir', next, '--emptyOutDir'], {
    cwd: join(dashboard, '..'),
    encoding: 'utf8',
    timeout: 180_000,
    // Called from a test runner, NODE_ENV is "test": Vite would then bundle Solid's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) throw new Error(`dashboard build failed:\n${result.stdout}\n${result.stderr}`);
  const dist = join(dashboard, 'dist');
  const old = join(dashboard, '.tmp', 'dist-old');
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(next, dist);
  rmSync(old, { recursive: true, force: true });
  log(result.stdout.trim());
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) ensureDashboardBuild();
