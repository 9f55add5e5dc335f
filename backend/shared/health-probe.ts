/**
 * The containers' health check (Dockerfile HEALTHCHECK, docker-compose): exits 0 when healthy,
 * 1 otherwise, within a few seconds. Slim images have no curl or grpc_health_probe, so this is it.
 *
 *   node --import tsx backend/shared/health-probe.ts grpc [host:port] [service]   grpc.health.v1 Check
 *   node --import tsx backend/shared/health-probe.ts http [url]                   GET answers 2xx
 *
 * Without arguments it probes what this container runs: PDASH_SERVICE=bff → the BFF's /healthz on
 * BFF_PORT, any other service → its gRPC health on GRPC_PORT (the server as a whole, which turns
 * NOT_SERVING as soon as it starts shutting down).
 */
import { pathToFileURL } from 'node:url';
import { createChannel, createClient } from 'nice-grpc';
import { HealthCheckResponse_ServingStatus, HealthDefinition } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';

const TIMEOUT_MS = 3_000;

export type Probe = { kind: 'grpc'; address: string; service: string } | { kind: 'http'; url: string };

/** What to probe, from the arguments or, without them, from the container's environment. */
export function probeTarget(args: string[], env: NodeJS.ProcessEnv = process.env): Probe {
  const [kind, target, service] = args;
  if (kind === 'http') return { kind, url: target ?? `http://127.0.0.1:${env.BFF_PORT ?? 3001}/healthz` };
  if (kind === 'grpc') return { kind, address: target ?? `127.0.0.1:${env.GRPC_PORT ?? 50051}`, service: service ?? '' };
  if (kind !== undefined) throw new Error(`unknown probe "${kind}": use grpc or http`);
  return env.PDASH_SERVICE === 'bff' ? probeTarget(['http'], env) : probeTarget(['grpc'], env);
}

/** Resolves with a one-line verdict when healthy; rejects with the reason otherwise. */
export async function probe(target: Probe, timeoutMs = TIMEOUT_MS): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  if (target.kind === 'http') {
    const res = await fetch(target.url, { signal });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`${target.url} answered ${res.status}`);
    return `${target.url}: ${res.status}`;
  }
  const channel = createChannel(target.address);
  try {
    const { status } = await createClient(HealthDefinition, channel).check({ service: target.service }, { signal });
    if (status !== HealthCheckResponse_ServingStatus.SERVING) {
      throw new Error(`${target.address}: ${HealthCheckResponse_ServingStatus[status] ?? status}`);
    }
    return `${target.address}: SERVING`;
  } finally {
    channel.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(await probe(probeTarget(process.argv.slice(2))));
    process.exit(0);
  } catch (err) {
    // fetch's own message is "fetch failed"; the reason (ECONNREFUSED…) is its cause.
    const reason = err instanceof Error ? [err.message, (err.cause as Error | undefined)?.message].filter(Boolean).join(': ') : String(err);
    console.error(`unhealthy: ${reason}`);
    process.exit(1);
  }
}
