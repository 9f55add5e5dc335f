import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { addressVariable, BACKEND_SERVICES, TOPOLOGY } from '@pdash/scripts/topology';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';

/*
 * deploy/k8s, checked without a cluster: every manifest parses and validates against the
 * Kubernetes OpenAPI schemas that the kubernetes-models package ships (offline), and the
 * kustomizations are rendered (a small kustomize of our own: resources, generators, strategic
 * merge patches, images, namespace, labels; and `kubectl kustomize` as well where it exists)
 * and held to the deployment rules: probes, resources, autoscaling, disruption budgets, secrets
 * referenced and never inlined.
 */

const root = join(import.meta.dirname, '../..');
const k8s = join(root, 'deploy/k8s');

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field
type Obj = Record<string, any>;
interface Resource extends Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

const readYaml = (file: string): Resource[] =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length) throw new Error(`${relative(root, file)}: ${doc.errors[0]!.message}`);
    return doc.toJS() as Resource;
  });

// ---- a minimal kustomize ------------------------------------------------------------------------

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strategic merge as kustomize does it for what our patches touch: maps deep, lists of named items by name. */
function strategicMerge(target: Obj, patch: Obj): Obj {
  const out: Obj = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (isObject(value) && isObject(current)) out[key] = strategicMerge(current, value);
    else if (Array.isArray(value) && Array.isArray(current) && value.every((v) => isObject(v) && 'name' in v)) {
      const merged = current.map((item) => {
        const match = value.find((v) => v.name === item.name);
        return match ? strategicMerge(item, match) : item;
      });
      for (const item of value) if (!current.some((c) => c.name === item.name)) merged.push(item);
      out[key] = merged;
    } else out[key] = value;
  }
  return out;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass']);

function kustomize(dir: string): Resource[] {
  const k = readYaml(join(dir, 'kustomization.yaml'))[0]!;
  let objects: Resource[] = [];
  for (const entry of k.resources ?? []) {
    const path = join(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? kustomize(path) : readYaml(path)));
  }
  for (const generator of k.secretGenerator ?? []) {
    const data = Object.fromEntries(
      (generator.literals ?? []).map((literal: string) => {
        const eq = literal.indexOf('=');
        return [literal.slice(0, eq), Buffer.from(literal.slice(eq + 1)).toString('base64')];
      }),
    );
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: generator.name }, type: 'Opaque', data });
  }
  for (const { path } of k.patches ?? []) {
    for (const patch of readYaml(join(dir, path))) {
      const index = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (index < 0) throw new Error(`${path}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[index] = strategicMerge(objects[index]!, patch) as Resource;
    }
  }
  objects = objects.map((o) => structuredClone(o));
  for (const image of k.images ?? []) {
    for (const container of objects.flatMap(containersOf)) {
      const [name] = String(container.image).split(':');
      if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag}`;
    }
  }
  for (const { pairs } of k.labels ?? []) {
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...pairs };
  }
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  return objects;
}

function containersOf(o: Obj): Obj[] {
  const spec = o.spec?.template?.spec;
  return spec ? [...(spec.initContainers ?? []), ...(spec.containers ?? [])] : [];
}

// ---- schema validation --------------------------------------------------------------------------

/** The kubernetes-models class for an object's apiVersion and kind; its validate() checks the OpenAPI schema. */
async function validate(o: Resource) {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const module = `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
  const Model = (await import(module))[o.kind];
  new Model(o).validate();
}

// ---- the checks ---------------------------------------------------------------------------------

const manifestFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? manifestFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );

test('every manifest parses, and every object in it is valid for its kind', async () => {
  const files = manifestFiles(k8s);
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) {
    if (file.endsWith('kustomization.yaml')) continue;
    for (const object of readYaml(file)) {
      expect(object.apiVersion, relative(root, file)).toBeTruthy();
      // Patches hold partial objects: they are validated once applied (below).
      if (!file.includes('/patches/'))
        await expect(validate(object), `${relative(root, file)}: ${object.kind} ${object.metadata?.name}`).resolves.toBeUndefined();
    }
  }
});

test('the schemas catch a wrong field type', async () => {
  const [deployment] = readYaml(join(k8s, 'base/orders.yaml'));
  await expect(validate({ ...deployment!, spec: { ...deployment!.spec, replicas: 'two' } })).rejects.toThrow(/replicas/);
});

test('every file a kustomization names exists', () => {
  for (const file of manifestFiles(k8s).filter((f) => f.endsWith('kustomization.yaml'))) {
    const k = readYaml(file)[0]!;
    for (const path of [...(k.resources ?? []), ...(k.patches ?? []).map((p: Obj) => p.path)]) {
      expect(existsSync(join(dirname(file), path)), `${relative(root, file)}: ${path}`).toBe(true);
    }
  }
});

/** The topology table (scripts/lib/topology.ts) is what the manifests must agree with. */
const GRPC_SERVICES = BACKEND_SERVICES;
const SERVICE_NAMES = Object.fromEntries(
  BACKEND_SERVICES.map((name) => {
    const health = TOPOLOGY[name].health;
    return [name, health.kind === 'grpc' ? health.service : ''];
  }),
);

describe.each(['base', 'overlays/local'])('%s, rendered', (target) => {
  let objects: Resource[];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const deployment = (name: string) => find('Deployment', name)!;
  const container = (name: string) => containersOf(deployment(name)).find((c) => c.name === name)!;

  beforeAll(() => {
    objects = kustomize(join(k8s, target));
  });

  test('validates, and names each object once', async () => {
    for (const object of objects) await validate(object);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('has a Deployment and a Service for each service, the BFF and Nginx', () => {
    for (const name of [...GRPC_SERVICES, 'bff', 'nginx']) {
      expect(find('Deployment', name), `Deployment ${name}`).toBeDefined();
      const service = find('Service', name);
      expect(service, `Service ${name}`).toBeDefined();
      const labels = deployment(name).spec.template.metadata.labels;
      for (const [key, value] of Object.entries(service!.spec.selector)) expect(labels[key], `${name} selector`).toBe(value);
      const portNames = container(name).ports.map((p: Obj) => p.name);
      for (const port of service!.spec.ports) expect(portNames, `${name} targetPort`).toContain(port.targetPort);
    }
  });

  test('each process is told the address of every service the topology says it calls', () => {
    for (const name of [...GRPC_SERVICES, 'bff'] as const) {
      const c = container(name);
      const fromConfigMaps = (c.envFrom ?? []).flatMap((source: Obj) =>
        source.configMapRef ? Object.keys(find('ConfigMap', source.configMapRef.name)?.data ?? {}) : [],
      );
      const variables = [...(c.env ?? []).map((e: Obj) => e.name), ...fromConfigMaps];
      for (const called of TOPOLOGY[name].calls) expect(variables, name).toContain(addressVariable(called));
    }
  });

  test("Nginx's probes ask for a name it answers for (any other Host gets 421)", () => {
    const c = container('nginx');
    const hosts = String(c.env.find((e: Obj) => e.name === 'PDASH_HOSTS')?.value ?? '').split(',');
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const host = probe.httpGet.httpHeaders?.find((h: Obj) => h.name === 'Host')?.value;
      expect(hosts).toContain(host);
    }
  });

  test('the gRPC services are probed natively on their gRPC health service', () => {
    for (const name of GRPC_SERVICES) {
      const c = container(name);
      const grpcPort = c.ports.find((p: Obj) => p.name === 'grpc').containerPort;
      expect(c.readinessProbe?.grpc, name).toEqual({ port: grpcPort, service: SERVICE_NAMES[name] });
      expect(c.livenessProbe?.grpc?.port, name).toBe(grpcPort);
    }
  });

  test('the BFF is probed over HTTP: ready when it reaches auth, alive without it', () => {
    const c = container('bff');
    expect(c.readinessProbe.httpGet.path).toBe('/healthz');
    expect(c.livenessProbe.httpGet.path).toBeTruthy();
    expect(c.livenessProbe.httpGet.path).not.toBe('/healthz');
    expect(c.env.find((e: Obj) => e.name === 'BFF_REPLICA_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(c.readinessProbe.httpGet.port).toBe('http');
  });

  test('every container has CPU and memory requests and limits, runs as non-root, on a pinned image', () => {
    for (const o of objects.filter((o) => o.kind === 'Deployment')) {
      for (const c of containersOf(o)) {
        for (const kind of ['requests', 'limits']) {
          expect(c.resources?.[kind]?.cpu, `${o.metadata.name} ${kind}.cpu`).toBeTruthy();
          expect(c.resources?.[kind]?.memory, `${o.metadata.name} ${kind}.memory`).toBeTruthy();
        }
        expect(c.image).toMatch(/:[\w.-]+$/);
        expect(c.image).not.toMatch(/:latest$/);
      }
    }
    for (const name of [...GRPC_SERVICES, 'bff', 'nginx']) {
      expect(deployment(name).spec.template.spec.securityContext.runAsNonRoot, name).toBe(true);
      expect(container(name).securityContext.allowPrivilegeEscalation, name).toBe(false);
      expect(container(name).securityContext.readOnlyRootFilesystem, name).toBe(true);
    }
  });

  test('nothing reaches a pod but what the topology says calls it (and Prometheus its metrics)', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => Object.keys(p.spec.podSelector ?? {}).length === 0);
    expect(deny?.spec.policyTypes).toEqual(['Ingress']);
    expect(deny?.spec.ingress ?? []).toEqual([]);
    /** Who may reach `name` on `port`: app names, `ns:<namespace>`, or `anyone`. */
    const allowedFrom = (name: string, port: string) =>
      policies
        .filter((p) => p.spec.podSelector?.matchLabels?.['app.kubernetes.io/name'] === name)
        .flatMap((p) => p.spec.ingress ?? [])
        .filter((rule: Obj) => (rule.ports ?? []).some((p: Obj) => p.port === port))
        .flatMap((rule: Obj) =>
          (rule.from ?? [{}]).map((from: Obj) =>
            from.podSelector
              ? from.podSelector.matchLabels['app.kubernetes.io/name']
              : from.namespaceSelector
                ? `ns:${from.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}`
                : 'anyone',
          ),
        )
        .sort();
    for (const name of GRPC_SERVICES) {
      const callers = [...GRPC_SERVICES, 'bff' as const].filter((caller) => TOPOLOGY[caller].calls.includes(name)).sort();
      expect(allowedFrom(name, 'grpc'), name).toEqual(callers);
      expect(allowedFrom(name, 'metrics'), name).toEqual(['ns:monitoring']);
    }
    expect(allowedFrom('bff', 'http')).toEqual(['nginx', 'ns:monitoring']);
    expect(allowedFrom('nginx', 'http')).toEqual(['anyone']);
  });

  test('customers and suppliers run one replica, never two at once (their Redis-outage guarantee holds for one)', () => {
    for (const name of ['customers', 'suppliers']) {
      expect(deployment(name).spec.replicas, name).toBe(1);
      expect(deployment(name).spec.strategy.type, name).toBe('Recreate');
      expect(find('HorizontalPodAutoscaler', name), name).toBeUndefined();
    }
  });

  test('the BFF and orders scale horizontally; disruption budgets cover every service', () => {
    for (const name of ['bff', 'orders']) {
      const hpa = find('HorizontalPodAutoscaler', name);
      expect(hpa?.spec.scaleTargetRef, name).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa!.spec.minReplicas).toBeLessThanOrEqual(hpa!.spec.maxReplicas);
    }
    for (const name of [...GRPC_SERVICES, 'bff', 'nginx']) {
      const pdb = objects.find(
        (o) =>
          o.kind === 'PodDisruptionBudget' &&
          Object.entries(o.spec.selector.matchLabels).every(([k, v]) => deployment(name).spec.template.metadata.labels[k] === v),
      );
      expect(pdb, `PodDisruptionBudget for ${name}`).toBeDefined();
    }
    expect(find('HorizontalPodAutoscaler', 'bff')!.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });

  test('secrets are referenced, never written in a manifest; datastores are named by URL', () => {
    const envs = objects.flatMap((o) => containersOf(o).flatMap((c) => (c.env ?? []).map((e: Obj) => ({ owner: o.metadata.name, ...e }))));
    for (const name of ['AUTH_PRIVATE_KEY', 'MONGO_URL', 'REDIS_URL']) {
      const uses = envs.filter((e) => e.name === name);
      expect(uses.length, name).toBeGreaterThan(0);
      for (const use of uses) {
        expect(use.value, `${use.owner} ${name} inlined`).toBeUndefined();
        expect(use.valueFrom?.secretKeyRef?.key, `${use.owner} ${name}`).toBe(name);
      }
    }
    for (const name of GRPC_SERVICES) {
      const names = container(name).env.map((e: Obj) => e.name);
      expect(names, name).toEqual(expect.arrayContaining(['MONGO_URL', 'REDIS_URL']));
    }
    expect(container('auth').env.map((e: Obj) => e.name)).toContain('AUTH_PRIVATE_KEY');
    // Every ConfigMap key referenced exists.
    const config = find('ConfigMap', 'pdash-config')!;
    for (const e of envs.filter((e) => e.valueFrom?.configMapKeyRef))
      expect(config.data, e.name).toHaveProperty(e.valueFrom.configMapKeyRef.key);
    if (target === 'base') expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  test('every object carries the part-of label', () => {
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/part-of'], `${o.kind}/${o.metadata.name}`).toBe('pdash');
  });
});

describe('overlays/local', () => {
  const objects = kustomize(join(k8s, 'overlays/local'));

  test('runs in its own namespace, with its own throwaway MongoDB and Redis named in the datastores Secret', () => {
    expect(objects.find((o) => o.kind === 'Namespace')?.metadata.name).toBe('pdash');
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) expect(o.metadata.namespace, o.metadata.name).toBe('pdash');
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'pdash-datastores')!;
    const url = (key: string) => Buffer.from(secret.data[key], 'base64').toString();
    const services = new Set(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name));
    expect(services).toContain(new URL(url('MONGO_URL')).hostname);
    expect(services).toContain(new URL(url('REDIS_URL')).hostname);
  });

  test('one auth replica, which may run on a development key', () => {
    const auth = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'auth')!;
    expect(auth.spec.replicas).toBe(1);
    const key = auth.spec.template.spec.containers[0].env.find((e: Obj) => e.name === 'AUTH_PRIVATE_KEY');
    expect(key.valueFrom.secretKeyRef.optional).toBe(true);
  });

  // kubectl ships kustomize; where it is installed, its rendering must agree with ours.
  const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find(existsSync);
  test.skipIf(!kubectl)('kubectl kustomize renders the same objects', async () => {
    let output: string;
    try {
      output = execFileSync(kubectl!, ['kustomize', join(k8s, 'overlays/local')], { encoding: 'utf8', timeout: 30_000, stdio: 'pipe' });
    } catch (err) {
      // A kubectl that cannot run here (a cloud SDK's wrapper without its SDK) proves nothing either way.
      console.warn(`kubectl kustomize did not run: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    const theirs = parseAllDocuments(output).map((d) => d.toJS() as Resource);
    for (const object of theirs) await validate(object);
    const ids = (list: Resource[]) => list.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
    expect(ids(theirs)).toEqual(ids(objects));
    // In any order: kustomize puts patched list items first.
    const env = (list: Resource[]) =>
      (list.find((o) => o.kind === 'Deployment' && o.metadata.name === 'auth')!.spec.template.spec.containers[0].env as Obj[]).toSorted(
        (a, b) => a.name.localeCompare(b.name),
      );
    expect(env(theirs)).toEqual(env(objects));
  });
});
