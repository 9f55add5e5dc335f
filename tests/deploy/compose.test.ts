import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addressVariable, BACKEND_SERVICES, TOPOLOGY } from '@pdash/scripts/topology';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';

/*
 * docker-compose.yml as Compose itself reads it: Debian's docker-compose (1.29, installed by
 * scripts/install-infra.sh) resolves anchors, merge keys and ${VARIABLES} and validates the file
 * against the Compose schema it ships, with no Docker engine. The shape is then checked here.
 */

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  ports?: (string | { target: number; published: string | number; host_ip?: string })[];
  expose?: unknown[];
  networks?: Record<string, unknown>;
  volumes?: (string | { source: string; target: string })[];
  deploy?: { replicas?: number };
  user?: string;
}
interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  volumes: Record<string, unknown>;
}

/** `docker-compose config` with nothing but this env file: no shell variable, no developer's .env. */
async function composeConfig(envFile: string): Promise<Compose> {
  const args = ['--project-directory', root, '-f', join(root, 'docker-compose.yml'), '--env-file', envFile, 'config'];
  const { stdout } = await run('docker-compose', args, { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME } }).catch(
    (err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new Error('docker-compose is not installed: run `npm run infra:install`') : err;
    },
  );
  return parse(stdout) as Compose;
}

let dir: string;
let config: Compose;
let withDefaults: Compose;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pdash-compose-'));
  const empty = join(dir, 'empty.env');
  writeFileSync(empty, '');
  [config, withDefaults] = await Promise.all([composeConfig(join(root, '.env.example')), composeConfig(empty)]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The topology table (scripts/lib/topology.ts) is what this file must agree with. */
const GRPC_SERVICES = BACKEND_SERVICES;
const bffServices = () => Object.keys(config.services).filter((name) => config.services[name]!.build?.args?.SERVICE === 'bff');

describe('docker-compose.yml', () => {
  test('is valid Compose, and .env.example only restates its defaults', () => {
    expect(config).toEqual(withDefaults);
  });

  test('runs MongoDB and Redis on pinned official images, with data on named volumes', () => {
    const { mongo, redis } = config.services;
    expect(mongo?.image).toMatch(/^mongo:\d+(\.\d+)*$/);
    expect(redis?.image).toMatch(/^redis:\d+(\.\d+)*-alpine$/);
    const volumeNames = (service: Service | undefined) =>
      (service?.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source));
    expect(volumeNames(mongo)).toContain('mongo-data');
    expect(volumeNames(redis)).toContain('redis-data');
    expect(Object.keys(config.volumes)).toEqual(expect.arrayContaining(['mongo-data', 'redis-data']));
  });

  test('runs the four services, at least two BFF replicas and Nginx, built from this repository', () => {
    for (const name of [...GRPC_SERVICES, 'nginx']) expect(config.services, name).toHaveProperty(name);
    const replicas = bffServices().reduce((sum, name) => sum + (config.services[name]!.deploy?.replicas ?? 1), 0);
    expect(replicas).toBeGreaterThanOrEqual(2);
    for (const name of GRPC_SERVICES) expect(config.services[name]!.build?.args?.SERVICE).toBe(name);
    expect(config.services.nginx?.build?.dockerfile).toBe('docker/nginx.Dockerfile');
    // Each replica names itself in X-Served-By, and Nginx balances exactly these.
    const names = bffServices().map((name) => config.services[name]!.environment?.BFF_REPLICA_NAME);
    expect(new Set(names).size).toBe(names.length);
    const upstreams = (config.services.nginx?.environment?.BFF_UPSTREAMS ?? '').split(/\s+/).map((u) => u.split(':')[0]);
    expect(upstreams.sort()).toEqual(bffServices().sort());
  });

  test('every service has a health check, a restart policy, and waits for what it needs to be healthy', () => {
    for (const [name, service] of Object.entries(config.services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeTruthy();
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(['always', 'unless-stopped', 'on-failure'], `${name} restart`).toContain(service.restart);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(config.services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
      }
    }
    // As the topology table says: each waits for what it depends on.
    for (const name of GRPC_SERVICES)
      expect(Object.keys(config.services[name]!.depends_on ?? {}).sort(), name).toEqual([...TOPOLOGY[name].dependsOn].sort());
    for (const name of bffServices())
      expect(Object.keys(config.services[name]!.depends_on ?? {}).sort()).toEqual([...TOPOLOGY.bff.dependsOn].sort());
    expect(Object.keys(config.services.nginx?.depends_on ?? {}).sort()).toEqual(bffServices().sort());
  });

  test('the health checks probe gRPC health on the services and /healthz on the BFF', () => {
    const command = (name: string) => [config.services[name]!.healthcheck!.test].flat().join(' ');
    for (const name of GRPC_SERVICES) expect(command(name)).toMatch(/backend\/shared\/health-probe\.ts$/);
    for (const name of bffServices()) expect(command(name)).toMatch(/backend\/shared\/health-probe\.ts http$/);
    expect(command('mongo')).toMatch(/mongosh .*ping/);
    expect(command('redis')).toMatch(/redis-cli ping/);
  });

  test('only Nginx publishes a port, 8080, on loopback unless told otherwise', () => {
    for (const [name, service] of Object.entries(config.services)) {
      if (name !== 'nginx') expect(service.ports ?? [], `${name} publishes a port`).toEqual([]);
      expect(service.expose ?? [], name).toEqual([]);
    }
    const ports = config.services.nginx?.ports ?? [];
    expect(ports).toHaveLength(1);
    const port = ports[0]!;
    const [hostIp, published, target] =
      typeof port === 'string' ? port.replace(/\/tcp$/, '').split(':') : [port.host_ip, String(port.published), String(port.target)];
    expect({ hostIp, published, target }).toEqual({ hostIp: '127.0.0.1', published: '8080', target: '8080' });
  });

  test('everything but Nginx is on the internal network only', () => {
    expect(config.networks.backend?.internal).toBe(true);
    for (const [name, service] of Object.entries(config.services)) {
      const networks = Object.keys(service.networks ?? { default: null });
      expect(networks, name).toEqual(name === 'nginx' ? ['backend', 'edge'] : ['backend']);
    }
  });

  test('each process is told the address of every service the topology says it calls', () => {
    for (const name of GRPC_SERVICES)
      for (const called of TOPOLOGY[name].calls) expect(config.services[name]!.environment, name).toHaveProperty(addressVariable(called));
    for (const name of bffServices())
      for (const called of TOPOLOGY.bff.calls) expect(config.services[name]!.environment, name).toHaveProperty(addressVariable(called));
  });

  test('services find each other by service name; no secret is written in the file', () => {
    for (const [name, service] of Object.entries(config.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (key.endsWith('_ADDR')) expect(config.services, `${name} ${key}=${value}`).toHaveProperty(String(value).split(':')[0]!);
      }
    }
    // Passed through from .env or the shell when set, otherwise unset (the auth service's development key).
    expect(config.services.auth?.environment).toHaveProperty('AUTH_PRIVATE_KEY', null);
  });
});

describe('.env.example', () => {
  const example = readFileSync(join(root, '.env.example'), 'utf8');
  const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

  test('lists every variable the compose file reads', () => {
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const used = new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    for (const name of used) expect(documented, name).toContain(name);
  });

  test('holds no secret: the signing key is a commented placeholder', () => {
    expect(example).not.toMatch(/^AUTH_PRIVATE_KEY=/m);
    expect(example).toMatch(/^# AUTH_PRIVATE_KEY=/m);
    expect(example).not.toMatch(/BEGIN PRIVATE KEY-----\\n[A-Za-z0-9+/]{20,}/);
  });

  test('.env itself is git-ignored', () => {
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });
});
