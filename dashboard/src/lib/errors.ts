import { TRPCClientError } from '@trpc/client';

/*
 * What the dashboard needs to know about a failed call: its tRPC code (the BFF's errorFormatter puts
 * it in `data.code`) and the server's message, which names the field at fault as `field: problem`.
 */

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNPROCESSABLE_CONTENT'
  | 'TOO_MANY_REQUESTS'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export function errorCode(err: unknown): ErrorCode | undefined {
  if (!(err instanceof TRPCClientError)) return undefined;
  const code = (err.data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? (code as ErrorCode) : undefined;
}

export const isUnauthorized = (err: unknown) => errorCode(err) === 'UNAUTHORIZED';
export const isConflict = (err: unknown) => errorCode(err) === 'CONFLICT';
export const isNotFound = (err: unknown) => errorCode(err) === 'NOT_FOUND';

/** Worth retrying: the network or the server failed, not the request. */
export function isTransient(err: unknown) {
  const code = errorCode(err);
  return code === undefined || code === 'SERVICE_UNAVAILABLE' || code === 'INTERNAL_SERVER_ERROR';
}

/** The server's message, or a plain one when the request never got an answer. */
export function errorMessage(err: unknown): string {
  if (err instanceof TRPCClientError && errorCode(err) !== undefined) return err.message;
  if (err instanceof TRPCClientError || err instanceof TypeError)
    return 'The server cannot be reached; check your connection and try again.';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Splits `field: problem` into the field (when it is one of `fields`) and the problem, so that a
 * form can show the server's complaint under the input it is about.
 */
export function fieldError<F extends string>(err: unknown, fields: readonly F[]): { field?: F; message: string } {
  const message = errorMessage(err);
  const match = /^([\w.]+): (.+)$/s.exec(message);
  const field = match?.[1] as F | undefined;
  if (match && field && fields.includes(field)) return { field, message: match[2]! };
  return { message };
}
