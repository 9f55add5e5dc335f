import type { Logger } from '@pdash/backend-shared/logger';
import { type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server';
import { ClientError, Status } from 'nice-grpc';

/*
 * The one place where failures become what a client sees: gRPC statuses from the backend services
 * become tRPC codes (and so HTTP statuses, API.md's table), validation problems become
 * `field: problem`, and anything unexpected becomes a generic INTERNAL_SERVER_ERROR. Backend
 * messages are already public (each service strips driver text); nothing else is passed on.
 */

/** gRPC status → tRPC code, for the statuses whose meaning is the same on every route. */
const BY_STATUS: Partial<Record<Status, TRPC_ERROR_CODE_KEY>> = {
  [Status.INVALID_ARGUMENT]: 'BAD_REQUEST',
  [Status.OUT_OF_RANGE]: 'BAD_REQUEST',
  [Status.NOT_FOUND]: 'NOT_FOUND',
  [Status.ALREADY_EXISTS]: 'CONFLICT',
  [Status.ABORTED]: 'CONFLICT',
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

/**
 * FAILED_PRECONDITION means two things: an order naming a customer or supplier that does not
 * exist (`customerId: no customer …`, 422), and deleting a customer or supplier that orders still
 * refer to (409).
 */
function failedPrecondition(message: string): TRPC_ERROR_CODE_KEY {
  return /^(customerId|supplierId):/.test(message) ? 'UNPROCESSABLE_CONTENT' : 'CONFLICT';
}

/** A gRPC failure from a backend service as the tRPC error a client may see. */
export function fromGrpc(err: ClientError): TRPCError {
  if (err.code === Status.FAILED_PRECONDITION)
    return new TRPCError({ code: failedPrecondition(err.details), message: err.details, cause: err });
  const code = BY_STATUS[err.code];
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

/** Seconds a client should wait before retrying, when the backend said so (login rate limit). */
export function retryAfterSeconds(err: TRPCError): number | undefined {
  if (err.code !== 'TOO_MANY_REQUESTS') return undefined;
  const match = /retry in (\d+) ?s\b/.exec(err.message);
  return match ? Number(match[1]) : undefined;
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
export function logFailure(log: Logger, requestId: string, path: string | undefined, error: TRPCError) {
  if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ requestId, path, err: error.cause ?? error }, 'request failed');
  else if (error.code === 'SERVICE_UNAVAILABLE') log.warn({ requestId, path, message: error.message }, 'backend unavailable');
}
