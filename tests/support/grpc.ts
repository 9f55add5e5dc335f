import { ClientError, Status } from 'nice-grpc';
import { expect } from 'vitest';

/** Awaits a call that must fail, and returns its gRPC error for further checks. */
export async function grpcError(call: Promise<unknown>, code: Status, message?: RegExp | string): Promise<ClientError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${Status[code]}`).toBeInstanceOf(ClientError);
  const clientError = err as ClientError;
  expect(Status[clientError.code]).toBe(Status[code]);
  if (message !== undefined) expect(clientError.details).toMatch(message);
  return clientError;
}

export { Status };
