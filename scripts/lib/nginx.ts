import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Renders nginx/nginx.conf for a local run: our port, our BFF replicas, our dashboard build, and
 * a runtime folder of our own for pid, temp files and the access log (no system paths).
 */
export const NGINX_BIN = '/usr/sbin/nginx';

export function renderNginxConfig(options: { listenPort: number; bffPorts: number[]; dashboardRoot: string; runtimeDir: string }) {
  const { runtimeDir } = options;
  mkdirSync(runtimeDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(runtimeDir, dir), { recursive: true });
    // As root, nginx's workers run as nobody and must be able to write their temp files.
    if (asRoot) chmodSync(join(runtimeDir, dir), 0o777);
  }
  const template = readFileSync(join(import.meta.dirname, '../../nginx/nginx.conf'), 'utf8');
  const values: Record<string, string> = {
    LISTEN_PORT: String(options.listenPort),
    BFF_SERVERS: options.bffPorts.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join('\n'),
    DASHBOARD_ROOT: options.dashboardRoot,
    RUNTIME_DIR: runtimeDir,
    USER_DIRECTIVE: asRoot ? 'user nobody nogroup;' : '',
  };
  const config = template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  const file = join(runtimeDir, 'nginx.conf');
  writeFileSync(file, config);
  return { file, args: ['-p', runtimeDir, '-c', file, '-e', 'stderr'] };
}
