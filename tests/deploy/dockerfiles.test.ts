import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

/*
 * The Dockerfiles, linted without a Docker engine: each is parsed into stages and instructions
 * and held to the image rules (multi-stage, pinned bases, production dependencies only, a
 * non-root user, a health check), and what they copy must exist and not be .dockerignore'd.
 * Nginx's entrypoint is run for real: it must render nginx/nginx.conf into a config nginx accepts.
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

/** .dockerignore as patterns (no negations are used). */
const ignored = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const isIgnored = (path: string) =>
  ignored.some((pattern) => {
    const regex = new RegExp(
      `^${pattern
        .replace(/\./g, '\\.')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*/g, '[^/]*')}(/.*)?$`,
    );
    return regex.test(path);
  });

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
      // tsx runs the TypeScript: it must be a production dependency.
      expect(JSON.parse(read('package.json')).dependencies).toHaveProperty('tsx');
    });

    test('its entry points and health probe exist for every SERVICE', () => {
      for (const service of ['customers', 'suppliers', 'orders', 'auth'])
        expect(existsSync(join(root, 'backend', service, 'main.ts'))).toBe(true);
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
  });
});

describe('the Nginx image entrypoint', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs docker/nginx-entrypoint.sh on nginx/nginx.conf (with `nginx -t`, or `true` in its place);
   * returns the rendered config. Its stdout is a file, as a container's is a pipe: the access log
   * goes there through /dev/stdout, which cannot be opened on the socket Node gives a child.
   */
  function render(shell: string[], env: Record<string, string>, nginx: string) {
    const dir = mkdtempSync(join(tmpdir(), 'pdash-nginx-image-'));
    dirs.push(dir);
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
          NGINX_TEMPLATE: join(root, 'nginx/nginx.conf'),
          NGINX_BIN: nginx,
          ...env,
        },
      },
    );
    closeSync(stdout);
    if (result.status !== 0) throw new Error(`entrypoint exited ${result.status}: ${result.stderr}`);
    return { stderr: result.stderr, html: join(dir, 'html'), config: readFileSync(join(runtime, 'nginx.conf'), 'utf8') };
  }

  function expectRendered(config: string, root: string) {
    expect(config).not.toMatch(/\$\{[A-Z_]+\}/);
    expect(config).toMatch(/^\s*listen 18080;$/m);
    expect(config).not.toContain('listen 127.0.0.1');
    expect(config).toContain(
      '    server localhost:3001 max_fails=1 fail_timeout=2s;\n    server 127.0.0.1:3002 max_fails=1 fail_timeout=2s;\n',
    );
    expect(config).toContain(`root ${root};`);
  }

  test.skipIf(!existsSync('/usr/sbin/nginx'))('renders a config that nginx accepts, listening on every interface', () => {
    const { config, html, stderr } = render(['sh'], {}, '/usr/sbin/nginx');
    expect(stderr).toMatch(/test is successful/);
    expectRendered(config, html);
  });

  // The image is Alpine: its sh and awk are BusyBox's, which this machine may have too.
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find(existsSync);
  test.skipIf(!busybox)("renders the same with BusyBox's sh and awk, as in the image", () => {
    const bin = mkdtempSync(join(tmpdir(), 'pdash-busybox-'));
    dirs.push(bin);
    for (const tool of ['sh', 'awk', 'mkdir', 'ln', 'true']) symlinkSync(busybox!, join(bin, tool));
    const { config, html } = render([join(bin, 'sh')], { PATH: bin }, 'true');
    expectRendered(config, html);
  });

  test('refuses to start without a BFF to send requests to', () => {
    expect(() => render(['sh'], { BFF_UPSTREAMS: ' ' }, 'true')).toThrow(/BFF_UPSTREAMS names no BFF replica/);
  });
});
