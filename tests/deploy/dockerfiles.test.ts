import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NGINX_BIN, renderNginxConfig } from '@pdash/scripts/nginx';
import { BACKEND_SERVICES, CONTAINER_PORTS } from '@pdash/scripts/topology';
import { afterAll, describe, expect, test } from 'vitest';

/*
 * The Dockerfiles, linted without a Docker engine: each is parsed into stages and instructions
 * and held to the image rules (multi-stage, pinned bases, production dependencies only, a
 * non-root user, a health check), and what they copy must exist and not be .dockerignore'd.
 * Nginx's entrypoint is run for real: nginx/render.sh must render nginx/nginx.conf into a config
 * nginx accepts, the same as `npm start` renders it.
 */

const root = join(import.meta.dirname, '../..');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name?: string;
  instructions: Instruction[];
}

/** Stages and their instructions; comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, base = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ base, name, instructions: [] });
    } else if (upper !== 'ARG' || stages.length > 0) {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before the first FROM`);
      stage.instructions.push({ keyword: upper, args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

const DOCKERFILES = { 'docker/Dockerfile': 'node', 'docker/nginx.Dockerfile': 'nginx' } as const;
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const stagesOf = (file: string) => parseDockerfile(read(file));
const all = (stage: Stage | undefined, keyword: string) => (stage?.instructions ?? []).filter((i) => i.keyword === keyword);

/** .dockerignore as patterns; as in Docker, the last pattern that matches decides, and `!` excepts. */
const ignored = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const except = line.startsWith('!');
    const pattern = except ? line.slice(1) : line;
    const regex = new RegExp(
      `^${pattern
        .replace(/\./g, '\\.')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*/g, '[^/]*')}(/.*)?$`,
    );
    return { except, regex };
  });
const isIgnored = (path: string) => ignored.reduce((result, { except, regex }) => (regex.test(path) ? !except : result), false);

describe.each(Object.entries(DOCKERFILES))('%s', (file, kind) => {
  const stages = stagesOf(file);
  const final = stages.at(-1);
  const stageNames = new Set(stages.map((s) => s.name));

  test('is multi-stage, on pinned official bases', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const { base } of stages) {
      if (stageNames.has(base)) continue;
      const [image, tag = ''] = base.split('@')[0]!.split(':');
      expect(base, 'a tag or digest').toMatch(/[:@]/);
      expect(tag, base).not.toBe('latest');
      expect(tag, `${base}: a version number, not a floating name`).toMatch(/^\d+(\.\d+)*(-[a-z0-9.-]+)?$/);
      expect(['node', 'nginx']).toContain(image);
    }
    expect(stages.filter((s) => s.base.startsWith('node:')).every((s) => /^node:20\.\d+-bookworm-slim$/.test(s.base))).toBe(true);
  });

  test('runs as a non-root user, with a health check', () => {
    const users = all(final, 'USER');
    expect(users.length, 'USER in the final stage').toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    const [healthcheck] = all(final, 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/CMD/);
    expect(healthcheck?.args).not.toMatch(/^NONE/);
  });

  test("copies only what exists and is not .dockerignore'd; never the whole context into the image", () => {
    for (const stage of stages) {
      for (const { args } of all(stage, 'COPY')) {
        if (args.includes('--from=')) {
          expect(stageNames, args).toContain(/--from=(\S+)/.exec(args)![1]);
          continue;
        }
        const paths = args
          .split(' ')
          .filter((part) => !part.startsWith('--'))
          .slice(0, -1);
        for (const path of paths) {
          expect(path, 'a whole-context COPY').not.toBe('.');
          expect(existsSync(join(root, path)), `${path} exists`).toBe(true);
          expect(isIgnored(path), `${path} is .dockerignore'd`).toBe(false);
        }
      }
      expect(all(stage, 'ADD'), 'ADD (use COPY)').toEqual([]);
    }
  });

  if (kind === 'node') {
    test('the runtime holds production dependencies only (npm ci --omit=dev), and listens on all interfaces', () => {
      const installs = stages.flatMap((stage) => all(stage, 'RUN').map((run) => ({ stage, run: run.args })));
      const npm = installs.filter(({ run }) => /\bnpm (ci|install|i)\b/.test(run));
      expect(npm.length).toBeGreaterThan(0);
      for (const { run } of npm) expect(run, 'every install in this image').toMatch(/npm ci\b.*--omit=dev/);
      // The runtime's node_modules: installed in the stage itself, or copied from a stage that did.
      const sources = all(final, 'COPY')
        .map((copy) => /--from=(\S+)/.exec(copy.args)?.[1])
        .filter(Boolean);
      const installedIn = npm.map(({ stage }) => stage.name);
      expect([final?.name, ...sources].some((name) => installedIn.includes(name))).toBe(true);

      const env = all(final, 'ENV')
        .map((e) => e.args)
        .join(' ');
      for (const setting of ['NODE_ENV=production', 'GRPC_HOST=0.0.0.0', 'METRICS_HOST=0.0.0.0', 'BFF_HOST=0.0.0.0'])
        expect(env).toContain(setting);
      // The container ports of the topology (scripts/lib/topology.ts).
      for (const setting of [
        `GRPC_PORT=${CONTAINER_PORTS.grpc}`,
        `METRICS_PORT=${CONTAINER_PORTS.metrics}`,
        `BFF_PORT=${CONTAINER_PORTS.bff}`,
      ])
        expect(env).toContain(setting);
      // tsx runs the TypeScript: it must be a production dependency.
      expect(JSON.parse(read('package.json')).dependencies).toHaveProperty('tsx');
    });

    test('its entry points and health probe exist for every SERVICE', () => {
      for (const service of BACKEND_SERVICES) expect(existsSync(join(root, 'backend', service, 'main.ts'))).toBe(true);
      expect(existsSync(join(root, 'bff/src/main.ts'))).toBe(true);
      expect(all(final, 'HEALTHCHECK')[0]?.args).toContain('backend/shared/health-probe.ts');
      expect(all(final, 'CMD')[0]?.args).toMatch(/exec node --import tsx/);
    });
  } else {
    test('builds the dashboard in a stage and serves only the build, with nginx/nginx.conf', () => {
      const build = stages.find((s) => all(s, 'RUN').some((r) => /npm run build -w @pdash\/dashboard/.test(r.args)));
      expect(build?.name).toBeTruthy();
      expect(final?.base).toMatch(/^nginx:/);
      const copies = all(final, 'COPY').map((c) => c.args);
      expect(copies).toContain(`--from=${build!.name} /app/dashboard/dist /usr/share/pdash`);
      expect(copies.some((c) => c.startsWith('nginx/nginx.conf '))).toBe(true);
      expect(all(final, 'RUN').filter((r) => /\bnpm\b/.test(r.args))).toEqual([]);
    });
  }
});

describe('.dockerignore', () => {
  test('keeps dependencies, data, builds, secrets and history out of the build context', () => {
    for (const entry of ['node_modules', '.data', '.tmp', 'dist', 'bench-results', '.git', '.env']) {
      expect(isIgnored(entry), entry).toBe(true);
    }
    expect(isIgnored('dashboard/node_modules')).toBe(true);
    expect(isIgnored('dashboard/dist')).toBe(true);
    expect(isIgnored('backend/shared/server.ts')).toBe(false);
    expect(isIgnored('.env.example')).toBe(true);
    // Workspaces' package.json files stay, for `npm ci`; the rest of their folders does not.
    expect(isIgnored('scripts/package.json')).toBe(false);
    expect(isIgnored('scripts/stack.ts')).toBe(true);
    expect(isIgnored('tests/support/package.json')).toBe(false);
    expect(isIgnored('tests/support/stack.ts')).toBe(true);
  });
});

describe('nginx/render.sh, the one renderer of nginx/nginx.conf, in the image and for npm start', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  /**
   * Runs docker/nginx-entrypoint.sh, as the image does, on nginx/nginx.conf (with `nginx -t`, or
   * `true` in its place); returns the rendered config. Its stdout is a file, as a container's is a
   * pipe: the access log goes there through /dev/stdout, which cannot be opened on the socket Node
   * gives a child.
   */
  function renderInImage(shell: string[], env: Record<string, string>, nginx: string) {
    const dir = tempDir('pdash-nginx-image-');
    mkdirSync(join(dir, 'html'));
    const runtime = join(dir, 'run');
    const stdout = openSync(join(dir, 'stdout'), 'w');
    const result = spawnSync(
      shell[0]!,
      [...shell.slice(1), join(root, 'docker/nginx-entrypoint.sh'), ...(nginx === 'true' ? [] : ['-t'])],
      {
        stdio: ['ignore', stdout, 'pipe'],
        encoding: 'utf8',
        env: {
          PATH: env.PATH ?? process.env.PATH,
          BFF_UPSTREAMS: 'localhost:3001 127.0.0.1:3002',
          LISTEN_PORT: '18080',
          DASHBOARD_ROOT: join(dir, 'html'),
          RUNTIME_DIR: runtime,
          NGINX_RENDER: join(root, 'nginx/render.sh'),
          NGINX_BIN: nginx,
          ...env,
        },
      },
    );
    closeSync(stdout);
    if (result.status !== 0) throw new Error(`entrypoint exited ${result.status}: ${result.stderr}`);
    return { stderr: result.stderr, html: join(dir, 'html'), runtime, config: readFileSync(join(runtime, 'nginx.conf'), 'utf8') };
  }

  function expectRendered(config: string, root: string) {
    expect(config).not.toMatch(/\$\{[A-Z_]+\}/);
    expect(config).toMatch(/^\s*listen 18080;$/m);
    expect(config).not.toContain('listen 127.0.0.1');
    expect(config).not.toMatch(/^\s*user /m);
    expect(config).toContain(
      '    server localhost:3001 max_fails=1 fail_timeout=2s;\n    server 127.0.0.1:3002 max_fails=1 fail_timeout=2s;\n',
    );
    expect(config).toContain(`root ${root};`);
  }

  test('the image renders a config that nginx accepts, listening on every interface', () => {
    expect(existsSync(NGINX_BIN), `${NGINX_BIN} (npm run infra:install)`).toBe(true);
    const { config, html, stderr } = renderInImage(['sh'], {}, NGINX_BIN);
    expect(stderr).toMatch(/test is successful/);
    expectRendered(config, html);
  });

  test('the image copies the renderer beside the template, and its entrypoint fills nothing itself', () => {
    const copies = all(stagesOf('docker/nginx.Dockerfile').at(-1), 'COPY').map((c) => c.args);
    expect(copies).toContain('nginx/nginx.conf nginx/render.sh /etc/pdash/');
    const entrypoint = read('docker/nginx-entrypoint.sh');
    expect(entrypoint).not.toMatch(/\bawk\b|\bsed\b|envsubst|\$\{BFF_SERVERS\}/);
    expect(entrypoint).toMatch(/^sh "\$\{NGINX_RENDER:-\/etc\/pdash\/render\.sh\}"$/m);
  });

  // The image is Alpine: its sh is BusyBox's ash. The renderer is plain POSIX sh calling no tool
  // but mkdir (BusyBox has it), and every POSIX shell here must render the very same bytes.
  test('renders the same bytes with dash and with bash in POSIX mode, and calls no tool but mkdir', () => {
    const dash = renderInImage(['dash'], {}, 'true');
    const posixBash = renderInImage(['bash', '--posix'], {}, 'true');
    expectRendered(dash.config, dash.html);
    expect(posixBash.config.replaceAll(posixBash.html, '<html>').replaceAll(posixBash.runtime, '<run>')).toBe(
      dash.config.replaceAll(dash.html, '<html>').replaceAll(dash.runtime, '<run>'),
    );
    const code = read('nginx/render.sh')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    expect(code).not.toMatch(/\b(awk|sed|grep|envsubst|tr|cut|cat|perl|python3?|node)\b/);
  });

  test('npm start renders the same template with the same renderer: loopback, and only root names a user', () => {
    const image = renderInImage(['sh'], { BFF_UPSTREAMS: '127.0.0.1:3001 127.0.0.1:3002' }, 'true');
    const local = tempDir('pdash-nginx-local-');
    const { file } = renderNginxConfig({
      listenPort: 18080,
      bffPorts: [3001, 3002],
      dashboardRoot: image.html,
      runtimeDir: local,
      user: 'root',
    });
    const rendered = readFileSync(file, 'utf8');
    expect(rendered).toMatch(/^user root;$/m);
    expect(rendered).toMatch(/^\s*listen 127\.0\.0\.1:18080;$/m);
    // Apart from the user, the listen address and the runtime folder, the two are the same text.
    const normalise = (text: string, runtime: string) =>
      text
        .replaceAll(runtime, '<run>')
        .replace(/^user root;$/m, '')
        .replace(/listen 127\.0\.0\.1:18080;/, 'listen 18080;');
    expect(normalise(rendered, local)).toBe(normalise(image.config, image.runtime));
    const unprivileged = renderNginxConfig({ listenPort: 18080, bffPorts: [3001], dashboardRoot: image.html, runtimeDir: local, user: '' });
    // Root workers only ever on loopback.
    expect(() =>
      renderNginxConfig({
        listenPort: 18080,
        listenHost: '',
        bffPorts: [3001],
        dashboardRoot: image.html,
        runtimeDir: local,
        user: 'root',
      }),
    ).toThrow(/only on loopback/);
    expect(readFileSync(unprivileged.file, 'utf8')).not.toMatch(/^\s*user /m);
  });

  test('refuses to start without a BFF to send requests to, or with a port that is not one', () => {
    expect(() => renderInImage(['sh'], { BFF_UPSTREAMS: ' ' }, 'true')).toThrow(/BFF_UPSTREAMS names no BFF replica/);
    expect(() => renderInImage(['sh'], { LISTEN_PORT: '80; evil' }, 'true')).toThrow(/LISTEN_PORT must be a port number/);
  });
});
