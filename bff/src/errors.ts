import type { Logger } from '@pdash/backend-shared/logger';
import { ERROR_DOMAIN, ERROR_REASONS, isErrorReason } from '@pdash/contracts';
import { type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server';
import { ClientError, Status } from 'nice-grpc';
import { RichClientError } from 'nice-grpc-error-details';

/*
 * The one place where failures become what a client sees: gRPC statuses from the backend services
 * become tRPC codes (and so HTTP statuses, API.md's table), validation problems become
 * `field: problem`, and anything unexpected becomes a generic INTERNAL_SERVER_ERROR. Backend
 * messages are already public (each service strips driver text); nothing else is passed on.
 * What a failure means is read from data, never from its message: the status, and where a
 * status means more than one thing, the reason in its error details (@pdash/contracts' ERROR_REASONS).
 */

/** gRPC status → tRPC code, for the statuses whose meaning is the same on every route. */
const BY_STATUS: Partial<Record<Status, TRPC_ERROR_CODE_KEY>> = {
  [Status.INVALID_ARGUMENT]: 'BAD_REQUEST',
  [Status.OUT_OF_RANGE]: 'BAD_REQUEST',
  [Status.NOT_FOUND]: 'NOT_FOUND',
  [Status.ALREADY_EXISTS]: 'CONFLICT',
  [Status.ABORTED]: 'CONFLICT',
  // A state that does not allow the call; its reason says which (REFERENCE_MISSING: 422).
  [Status.FAILED_PRECONDITION]: 'CONFLICT',
  [Status.UNAUTHENTICATED]: 'UNAUTHORIZED',
  [Status.PERMISSION_DENIED]: 'FORBIDDEN',
  [Status.RESOURCE_EXHAUSTED]: 'TOO_MANY_REQUESTS',
  [Status.UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
  [Status.DEADLINE_EXCEEDED]: 'SERVICE_UNAVAILABLE',
};

/** "/pdash.orders.v1.OrdersService/Get" → "orders service" */
function serviceOf(path: string) {
  const match = /^\/pdash\.(\w+)\./.exec(path);
  return match ? `${match[1]} service` : 'a backend service';
}

/** The error details a service attached to a failure (backend-shared's `failure`): its reason, its retry delay. */
function detailsOf(err: ClientError): { code?: TRPC_ERROR_CODE_KEY; retryAfterSeconds?: number } {
  if (!(err instanceof RichClientError)) return {};
  const found: { code?: TRPC_ERROR_CODE_KEY; retryAfterSeconds?: number } = {};
  for (const detail of err.extra) {
    if (detail.$type === 'google.rpc.ErrorInfo' && detail.domain === ERROR_DOMAIN && isErrorReason(detail.reason))
      found.code = ERROR_REASONS[detail.reason];
    else if (detail.$type === 'google.rpc.RetryInfo' && detail.retryDelay) found.retryAfterSeconds = Math.ceil(detail.retryDelay.seconds);
  }
  return found;
}

/** A gRPC failure from a backend service as the tRPC error a client may see. */
export function fromGrpc(err: ClientError): TRPCError {
  const code = detailsOf(err).code ?? BY_STATUS[err.code];
  if (!code) return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: err });
  // Unreachable or timed out: the details may be grpc-js's own text (addresses, socket errors).
  if (code === 'SERVICE_UNAVAILABLE') return new TRPCError({ code, message: `${serviceOf(err.path)} unavailable; try again`, cause: err });
  return new TRPCError({ code, message: err.details, cause: err });
}

/** Any error a procedure raised, as the tRPC error to answer with. */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof ClientError) return fromGrpc(err);
  if (err instanceof TRPCError) {
    return err.cause instanceof ClientError && err.code === 'INTERNAL_SERVER_ERROR' ? fromGrpc(err.cause) : err;
  }
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: err instanceof Error ? err : undefined });
}

/** Seconds a client should wait before retrying, when the backend said so (RetryInfo; the login rate limit). */
export function retryAfterSeconds(err: TRPCError): number | undefined {
  return err.cause instanceof ClientError ? detailsOf(err.cause).retryAfterSeconds : undefined;
}

interface Issue {
  path?: readonly (PropertyKey | { key: PropertyKey })[];
  message: string;
  code?: string;
  keys?: string[];
}

const isIssueList = (value: unknown): value is Issue[] =>
  Array.isArray(value) && value.every((issue) => typeof issue === 'object' && issue !== null && 'message' in issue);

/** `field: problem` for the first problem of a failed input validation (zod issues). */
function describeIssue(issue: Issue): string {
  const field = (issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part)).join('.');
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
    const keys = issue.keys.map((key) => (field ? `${field}.${key}` : key));
    return `${keys.join(', ')}: unknown field${keys.length > 1 ? 's' : ''}`;
  }
  // zod's own wording for a missing field; its issues do not carry the input.
  const problem = issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'is required' : issue.message;
  return `${field || 'input'}: ${problem}`;
}

/** The message a client sees for an error: never a stack trace, a driver message or a raw issue dump. */
export function publicMessage(err: TRPCError): string {
  const issues = (err.cause as { issues?: unknown } | undefined)?.issues;
  if (err.code === 'BAD_REQUEST' && isIssueList(issues) && issues[0]) return describeIssue(issues[0]);
  if (err.code === 'INTERNAL_SERVER_ERROR') return 'internal error';
  return err.message;
}

/** One log line for a failure that is ours rather than the client's: 500s as errors, 503s as warnings. */
export function logFailure(log: Logger, request: { requestId?: string; traceId?: string }, path: string | undefined, error: TRPCError) {
  if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ ...request, path, err: error.cause ?? error }, 'request failed');
  else if (error.code === 'SERVICE_UNAVAILABLE') log.warn({ ...request, path, message: error.message }, 'backend unavailable');
}
