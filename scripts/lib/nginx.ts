import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Renders nginx/nginx.conf for a local run with nginx/render.sh, the one renderer (the image runs
 * it too): our loopback port, our BFF replicas, our dashboard build, and a runtime folder of our
 * own for pid, temp files and the access log (no system paths).
 *
 * Run as root, Nginx's workers would switch to `nobody` and could then read nothing inside a
 * checkout under a private (0700) home such as /root, nor write their temp files in its `.data`:
 * every page answered 500. So as root they run as root, the user that runs the whole stack (every
 * other process of it runs as root already; Nginx listens on loopback only). The alternative,
 * copying the build out to a world-readable folder and making the temp folders world-writable
 * (0777, as before), would open request bodies (passwords in sign-ins) and the build's stand-in to
 * every local user, and serve a copy that a rebuild does not update.
 */
export const NGINX_BIN = '/usr/sbin/nginx';
export const NGINX_RENDERER = join(import.meta.dirname, '../../nginx/render.sh');

export interface NginxOptions {
  listenPort: number;
  /** Where Nginx listens; loopback by default, '' for every interface. */
  listenHost?: string;
  bffPorts: number[];
  dashboardRoot: string;
  runtimeDir: string;
  /** The workers' user; by default root when run as root, otherwise none (they stay the invoking user). */
  user?: string;
}

export function renderNginxConfig(options: NginxOptions) {
  const { runtimeDir } = options;
  execFileSync('sh', [NGINX_RENDERER], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      LISTEN_PORT: String(options.listenPort),
      LISTEN_HOST: options.listenHost ?? '127.0.0.1',
      BFF_UPSTREAMS: options.bffPorts.map((port) => `127.0.0.1:${port}`).join(' '),
      DASHBOARD_ROOT: options.dashboardRoot,
      RUNTIME_DIR: runtimeDir,
      NGINX_USER: options.user ?? (process.getuid?.() === 0 ? 'root' : ''),
    },
  });
  const file = join(runtimeDir, 'nginx.conf');
  return { file, args: ['-p', runtimeDir, '-c', file, '-e', 'stderr'] };
}
