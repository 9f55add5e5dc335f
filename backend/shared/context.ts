import { randomBytes } from 'node:crypto';
import { type CallContext, Metadata } from 'nice-grpc';

/**
 * What one request carries through every process it crosses: Nginx's request id and a W3C trace
 * context (`traceparent`, https://www.w3.org/TR/trace-context/). The server's call middleware
 * reads it from the call's metadata and keeps it on the call's context (`setRequest`); handlers
 * pass it on explicitly: to their log lines (`logFieldsOf`) and to the calls they make
 * (`callOptionsWithin`). (Not AsyncLocalStorage: its hooks cost every promise of every call, ~5 %
 * of a service's CPU, for what the handler's `context` argument already carries.) No tracing SDK
 * runs; an OpenTelemetry one would pick the same header up.
 */
export interface RequestContext {
  requestId?: string;
  traceId: string;
  /** This process's span for the request: the parent of the calls it makes. */
  spanId: string;
  /** W3C trace flags ("01": sampled). */
  flags: string;
}

const REQUEST = Symbol('request');
type WithRequest = CallContext & { [REQUEST]?: RequestContext };

/** Keeps the call's request context on its CallContext (the server's call middleware does, once per call). */
export function setRequest(context: CallContext, request: RequestContext) {
  (context as WithRequest)[REQUEST] = request;
}

/** The request context of a call being handled (none outside a call, or in a test calling a handler directly). */
const requestOf = (context: CallContext | undefined): RequestContext | undefined => (context as WithRequest | undefined)?.[REQUEST];

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

/** What a log line about a request names it by: its request id (when it came with a valid one) and its trace id. */
export function logFields(request: RequestContext | undefined): { requestId?: string; traceId?: string } {
  if (!request) return {};
  return request.requestId ? { requestId: request.requestId, traceId: request.traceId } : { traceId: request.traceId };
}

/** The log fields of the call being handled (`logFields` of its request context). */
export const logFieldsOf = (context: CallContext | undefined) => logFields(requestOf(context));

/**
 * The metadata of a call made within `request`: its id, and our span as the parent of the call's
 * (W3C traceparent), so the next service's log lines and spans join the same request. One rule
 * for the BFF's calls and the services' alike.
 */
export function callMetadata(request: RequestContext): Metadata {
  const metadata = Metadata({ traceparent: traceparentOf(request) });
  if (request.requestId) metadata.set('x-request-id', request.requestId);
  return metadata;
}

/** The options of a call made while handling `context` (its metadata: `callMetadata`). */
export function callOptionsWithin(context: CallContext | undefined): { metadata?: Metadata } {
  const request = requestOf(context);
  return request ? { metadata: callMetadata(request) } : {};
}
