import { registry } from '@pdash/backend-shared/metrics';
import { Gauge, Histogram } from 'prom-client';
import { endpointOf } from './endpoints.js';

/** The BFF's own metrics, in the process registry that GET /metrics serves (main.ts). */

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpDuration = new Histogram({
  name: 'pdash_bff_http_request_duration_seconds',
  help: 'HTTP requests answered by this replica, by route (trpc, trpc_sse, rest, docs, healthz, metrics, other), method and status',
  labelNames: ['route', 'method', 'status'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const procedureDuration = new Histogram({
  name: 'pdash_bff_procedure_duration_seconds',
  help: 'Procedure calls, tRPC and REST alike, by procedure, transport and outcome (ok or the tRPC error code)',
  labelNames: ['procedure', 'type', 'transport', 'outcome'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const sseSubscribers = new Gauge({
  name: 'pdash_bff_sse_subscribers',
  help: 'Live orders.onChange subscriptions on this replica',
  registers: [registry],
});

export const eventLag = new Histogram({
  name: 'pdash_bff_event_lag_seconds',
  help: 'From an order event entering the Redis stream (its id) to its delivery to a subscriber',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

/** Seconds since a Redis stream id (`<ms since epoch>-<seq>`) was made; undefined for anything else. */
export function secondsSinceEventId(eventId: string, now = Date.now()): number | undefined {
  const ms = Number(eventId.split('-', 1)[0]);
  return Number.isFinite(ms) && ms > 0 ? Math.max(0, now - ms) / 1000 : undefined;
}

/** The `route` label of a request path: a small fixed set, never the raw path (endpoints.ts's table). */
export function routeOf(pathname: string, accept: string | undefined): string {
  return endpointOf(pathname, accept).label;
}
