import { Status } from 'nice-grpc';
import { ErrorInfo, RetryInfo, RichClientError } from 'nice-grpc-error-details';
import { describe, expect, test } from 'vitest';
import { fromGrpc, retryAfterSeconds } from './errors.js';

/* What a failure means comes from its status and its error details, never from its message. */

const PATH = '/pdash.orders.v1.OrdersService/Create';
const reason = (name: string, domain = 'pdash') => ErrorInfo.fromPartial({ reason: name, domain });
const rich = (status: Status, message: string, extra: (ErrorInfo | RetryInfo)[]) => new RichClientError(PATH, status, message, extra);

describe('gRPC failures as API errors', () => {
  test('one status, two meanings: the reason decides, whatever the message says', () => {
    // The message reads like a missing reference; the reason says it is still referred to.
    expect(fromGrpc(rich(Status.FAILED_PRECONDITION, 'customerId: words', [reason('STILL_REFERENCED')])).code).toBe('CONFLICT');
    expect(fromGrpc(rich(Status.FAILED_PRECONDITION, 'anything at all', [reason('REFERENCE_MISSING')])).code).toBe('UNPROCESSABLE_CONTENT');
    expect(fromGrpc(rich(Status.FAILED_PRECONDITION, 'customerId: no customer', [])).code).toBe('CONFLICT');
  });

  test('a reason of another domain, or one we do not know, falls back on the status', () => {
    expect(fromGrpc(rich(Status.FAILED_PRECONDITION, 'x', [reason('REFERENCE_MISSING', 'elsewhere')])).code).toBe('CONFLICT');
    expect(fromGrpc(rich(Status.ABORTED, 'x', [reason('SOMETHING_NEW')])).code).toBe('CONFLICT');
    expect(fromGrpc(rich(Status.DATA_LOSS, 'x', [reason('SOMETHING_NEW')])).code).toBe('INTERNAL_SERVER_ERROR');
  });

  test('the retry delay is RetryInfo, not a number in the message', () => {
    const limited = fromGrpc(
      rich(Status.RESOURCE_EXHAUSTED, 'too many login attempts', [
        reason('RATE_LIMITED'),
        RetryInfo.fromPartial({ retryDelay: { seconds: 42, nanos: 0 } }),
      ]),
    );
    expect(limited.code).toBe('TOO_MANY_REQUESTS');
    expect(retryAfterSeconds(limited)).toBe(42);
    expect(retryAfterSeconds(fromGrpc(rich(Status.RESOURCE_EXHAUSTED, 'retry in 9 s', [reason('RATE_LIMITED')])))).toBeUndefined();
  });
});
