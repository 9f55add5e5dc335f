/**
 * Why a call failed, as data. The internal services attach a reason to a gRPC error
 * (google.rpc.ErrorInfo in the domain ERROR_DOMAIN, with google.rpc.RetryInfo when the caller
 * should wait); the BFF answers with the API code each reason stands for (API.md's error table).
 * Where a status alone says it (NOT_FOUND, INVALID_ARGUMENT, UNAVAILABLE…), no reason is needed.
 * A new reason is one line here.
 */
export const ERROR_DOMAIN = 'pdash';

export const ERROR_REASONS = {
  /** An order names a customer or supplier that does not exist (or is being deleted). */
  REFERENCE_MISSING: 'UNPROCESSABLE_CONTENT',
  /** A customer or supplier that orders still refer to cannot be deleted. */
  STILL_REFERENCED: 'CONFLICT',
  /** An update named a version that is not the current one, or another write got there first. */
  VERSION_CONFLICT: 'CONFLICT',
  /** A username or email that is already taken. */
  DUPLICATE: 'CONFLICT',
  /** The change would leave no enabled admin. */
  LAST_ADMIN: 'CONFLICT',
  /** Rows of an import that cannot be written (a google.rpc.BadRequest names `<row>.<field>` for each). */
  IMPORT_ROWS: 'UNPROCESSABLE_CONTENT',
  /** Too many attempts; RetryInfo says when to try again. */
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
} as const;

export type ErrorReason = keyof typeof ERROR_REASONS;
export type ApiErrorCode = (typeof ERROR_REASONS)[ErrorReason];

export const isErrorReason = (value: string): value is ErrorReason => Object.hasOwn(ERROR_REASONS, value);
