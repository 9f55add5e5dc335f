import { ERROR_DOMAIN, type ErrorReason } from '@pdash/contracts';
import { ClientError, ServerError, Status } from 'nice-grpc';
import { BadRequest, ErrorInfo, RetryInfo, RichServerError } from 'nice-grpc-error-details';
import type { z } from 'zod';

export { ServerError, Status };

/**
 * A failure whose meaning the status alone does not carry: its reason travels as
 * google.rpc.ErrorInfo (and a retry delay as google.rpc.RetryInfo) in the gRPC error details, so
 * that callers act on data, never on message text (@pdash/contracts' ERROR_REASONS).
 */
export function failure(status: Status, reason: ErrorReason, message: string, options: { retryAfterSeconds?: number } = {}) {
  const details: (ErrorInfo | RetryInfo)[] = [ErrorInfo.fromPartial({ reason, domain: ERROR_DOMAIN })];
  if (options.retryAfterSeconds !== undefined)
    details.push(RetryInfo.fromPartial({ retryDelay: { seconds: options.retryAfterSeconds, nanos: 0 } }));
  return new RichServerError(status, message, details);
}

/** The rows of an import that cannot be written: FAILED_PRECONDITION (IMPORT_ROWS), each as a BadRequest `<row>.<field>`. */
export function rowFailures(rows: { row: number; field: string; message: string }[], total = rows.length) {
  const first = rows[0];
  const message = `${total} row${total === 1 ? '' : 's'} cannot be imported${first ? `; row ${first.row}, ${first.field}: ${first.message}` : ''}`;
  return new RichServerError(Status.FAILED_PRECONDITION, message, [
    ErrorInfo.fromPartial({ reason: 'IMPORT_ROWS', domain: ERROR_DOMAIN, metadata: { total: String(total) } }),
    BadRequest.fromPartial({ fieldViolations: rows.map((r) => ({ field: `${r.row}.${r.field}`, description: r.message })) }),
  ]);
}

export const invalidArgument = (field: string, message: string) => new ServerError(Status.INVALID_ARGUMENT, `${field}: ${message}`);
export const notFound = (message: string) => new ServerError(Status.NOT_FOUND, message);
export const versionConflict = (what: string, expected: number) =>
  failure(Status.ABORTED, 'VERSION_CONFLICT', `${what} is not at version ${expected}; reload it and try again`);
/** Another write to the same record got there first (no version was named). */
export const writeConflict = (message: string) => failure(Status.ABORTED, 'VERSION_CONFLICT', message);

/** Validates a request with a zod schema; the first problem becomes INVALID_ARGUMENT naming its field. */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw invalidArgument(issue?.path.join('.') || 'request', issue?.message ?? 'is invalid');
}

const UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'PoolClosedError',
  'MongoPoolClearedError',
]);

const SOCKET_ERRORS = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH']);

/** Server codes a MongoDB-compatible server answers while it shuts down, steps down or loses its storage. */
const UNAVAILABLE_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);
const CONNECTION_TROUBLE = /connection|socket|closed|shut ?down|ECONNRESET|ECONNREFUSED|EPIPE|timed out/i;

function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error) || !err.name.startsWith('Mongo')) return false;
  if (UNAVAILABLE_ERRORS.has(err.name)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) return true;
  // FerretDB answers the requests it is serving when it is told to stop with InternalError (code 1)
  // "… context canceled": the server is going away, not the request at fault.
  if (code === 1 && /context canceled/i.test(err.message)) return true;
  // A server error is an answer about the request (a duplicate key, a bad query): only the driver's own errors say the link broke.
  return err.name !== 'MongoServerError' && CONNECTION_TROUBLE.test(err.message);
}

/**
 * What a client may see of an unexpected error: a database or service that cannot be reached is
 * UNAVAILABLE, anything else INTERNAL with a generic message. Driver text never leaves the service.
 */
export function toPublicError(err: unknown): ServerError {
  if (err instanceof ServerError) return err;
  // Another internal service that cannot be reached makes this call unavailable too.
  if (err instanceof ClientError && (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED)) {
    return new ServerError(Status.UNAVAILABLE, `${serviceOf(err.path)} unavailable`);
  }
  if (isDatabaseUnavailable(err)) return new ServerError(Status.UNAVAILABLE, 'database unavailable');
  // A bare socket error (seen: the MongoDB driver let an EPIPE through unwrapped as the database
  // stopped) is a link that broke, not a fault of the request.
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && SOCKET_ERRORS.has(code))
    return new ServerError(Status.UNAVAILABLE, 'a backing service is unreachable; try again');
  return new ServerError(Status.INTERNAL, 'internal error');
}

/** "/pdash.orders.v1.OrdersService/Count" → "orders service" */
function serviceOf(path: string) {
  const match = /^\/pdash\.(\w+)\./.exec(path);
  return match ? `${match[1]} service` : 'a backend service';
}
