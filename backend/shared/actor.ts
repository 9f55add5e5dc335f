import { USERNAME } from '@pdash/contracts';
import type { Metadata } from 'nice-grpc';

/** Who made a change: the signed-in user the BFF acted for. */
export interface Actor {
  id: string;
  username: string;
}

/** gRPC metadata the BFF sets on every call it makes for a signed-in user. */
export const ACTOR_ID_KEY = 'pdash-actor-id';
export const ACTOR_NAME_KEY = 'pdash-actor-username';

/** The caller's user from a call's metadata, or null (a script or test calling the service directly). */
export function actorOf(metadata: Metadata | undefined): Actor | null {
  const id = metadata?.get(ACTOR_ID_KEY);
  const username = metadata?.get(ACTOR_NAME_KEY);
  if (typeof id !== 'string' || typeof username !== 'string') return null;
  if (!/^[0-9a-f]{24}$/.test(id) || username.length > 32 || !USERNAME.test(username)) return null;
  return { id, username };
}
