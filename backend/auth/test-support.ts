import { randomBytes } from 'node:crypto';
import { ClientError } from 'nice-grpc';

/** The error a gRPC call fails with; fails the test when the call succeeds. */
export async function grpcError(call: Promise<unknown>): Promise<ClientError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Sign-up fields for a user no other test uses. */
export function newUser(password = 'correct horse battery') {
  const tag = randomBytes(5).toString('hex');
  return { username: `user_${tag}`, email: `user.${tag}@example.com`, password };
}
