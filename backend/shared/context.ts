import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * What one request carries through every process it crosses: Nginx's request id and a W3C trace
 * context (`traceparent`, https://www.w3.org/TR/trace-context/). Held in AsyncLocalStorage, so the
 * logger stamps every line with it and the gRPC clients pass it on, without handlers passing it
 * around. No tracing SDK runs; an OpenTelemetry one would pick the same header up.
 */
export interface RequestContext {
  requestId?: string;
  traceId: string;
  /** This process's span for the request: the parent of the calls it makes. */
  spanId: string;
  /** W3C trace flags ("01": sampled). */
  flags: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Nginx's request ids (and the BFF's UUIDs); anything else is dropped rather than logged. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/**
 * The context of a request that arrived with these headers or metadata: the caller's trace goes
 * on (a new span of ours under its span), or a new trace starts when there is none or it is malformed.
 */
export function contextFrom(requestId: string | undefined, traceparent: string | undefined): RequestContext {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim().toLowerCase()) : null;
  const valid = match && match[1] !== INVALID_TRACE_ID && match[2] !== INVALID_SPAN_ID;
  return {
    ...(requestId && REQUEST_ID.test(requestId) ? { requestId } : {}),
    traceId: valid ? match[1]! : randomHex(32),
    spanId: randomHex(16),
    flags: valid ? match[3]! : '01',
  };
}

/**
 * Random hex digits from a pool refilled 4 KiB at a time: a trace and a span id on every request
 * and call, without asking the system for random bytes each time (randomBytes showed in profiles).
 */
const pool = { hex: '', at: 0 };
function randomHex(digits: number): string {
  if (pool.at + digits > pool.hex.length) {
    pool.hex = randomBytes(4096).toString('hex');
    pool.at = 0;
  }
  const id = pool.hex.slice(pool.at, pool.at + digits);
  pool.at += digits;
  // All zeros is W3C's "invalid" id: vanishingly rare, but never sent.
  return /[^0]/.test(id) ? id : randomHex(digits);
}

/** The `traceparent` for a call made within this context: our span is the parent. */
export const traceparentOf = (context: RequestContext) => `00-${context.traceId}-${context.spanId}-${context.flags}`;

/** What every log line within a request carries. */
export function logFields(): { requestId?: string; traceId?: string } {
  const context = requestContext.getStore();
  if (!context) return {};
  return context.requestId ? { requestId: context.requestId, traceId: context.traceId } : { traceId: context.traceId };
}

/**
 * Sets on `metadata` what a call made within `context` carries on: the request id (unless the caller
 * set one) and our span as the call's parent (W3C traceparent). One rule for every gRPC client path.
 */
export function carryContext(metadata: { has(key: string): boolean; set(key: string, value: string): void }, context: RequestContext) {
  if (context.requestId && !metadata.has('x-request-id')) metadata.set('x-request-id', context.requestId);
  if (!metadata.has('traceparent')) metadata.set('traceparent', traceparentOf(context));
}
