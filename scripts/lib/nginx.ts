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
  /** PDASH_HOSTS: the names it answers for (comma-separated; default 127.0.0.1,localhost). */
  hosts?: string;
  /** TRUSTED_PROXIES: CIDRs whose X-Forwarded-For names the client (none by default). */
  trustedProxies?: string;
  /** AUTH_RATE and AUTH_BURST: sign-ups and logins per client address (5 a second after 20). */
  authRate?: string;
  authBurst?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function renderNginxConfig(options: NginxOptions) {
  const { runtimeDir } = options;
  const listenHost = options.listenHost ?? '127.0.0.1';
  const user = options.user ?? (process.getuid?.() === 0 ? 'root' : '');
  // Root workers are this stack's own, on loopback: never where anyone else can reach them.
  if (user === 'root' && !LOOPBACK.has(listenHost))
    throw new Error(`Nginx workers would run as root listening on "${listenHost || 'every interface'}": only on loopback`);
  execFileSync('sh', [NGINX_RENDERER], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      LISTEN_PORT: String(options.listenPort),
      LISTEN_HOST: listenHost,
      BFF_UPSTREAMS: options.bffPorts.map((port) => `127.0.0.1:${port}`).join(' '),
      DASHBOARD_ROOT: options.dashboardRoot,
      RUNTIME_DIR: runtimeDir,
      NGINX_USER: user,
      ...(options.hosts ? { PDASH_HOSTS: options.hosts } : {}),
      ...(options.trustedProxies ? { TRUSTED_PROXIES: options.trustedProxies } : {}),
      ...(options.authRate ? { AUTH_RATE: options.authRate } : {}),
      ...(options.authBurst ? { AUTH_BURST: options.authBurst } : {}),
    },
  });
  const file = join(runtimeDir, 'nginx.conf');
  return { file, args: ['-p', runtimeDir, '-c', file, '-e', 'stderr'] };
}
