import type { IncomingMessage, ServerResponse } from 'node:http';
import { callMetadata, logFields, type RequestContext } from '@pdash/backend-shared/context';
import type { Logger } from '@pdash/backend-shared/logger';
import type { TokenVerifier } from './auth-cache.js';
import type { Clients } from './clients.js';
import type { OrderFeed } from './events.js';

export const SESSION_COOKIE = 'pdash_session';

/** What every request's context is made from: the replica's long-lived parts. */
export interface ContextDeps {
  clients: Clients;
  tokens: TokenVerifier;
  log: Logger;
  orderFeed: OrderFeed;
  cookieSecure: boolean;
  /** What every request's backend calls may take together (GRPC_DEADLINE_MS). */
  deadlineMs: number;
}

/**
 * The request's id and trace context (@pdash/backend-shared/context), given to it by the HTTP layer
 * (main.ts) before any handler runs, and passed on explicitly from here: in every backend call's
 * metadata (below) and in the log lines that name a request. (No AsyncLocalStorage in the BFF: its
 * hooks cost every promise of every request, for what one field on the request carries.)
 */
const REQUEST = Symbol('request');
type WithRequest = IncomingMessage & { [REQUEST]?: RequestContext & { requestId: string } };
export const setRequestContext = (req: IncomingMessage, context: RequestContext & { requestId: string }) => {
  (req as WithRequest)[REQUEST] = context;
};
/** What a log line about `req` names it by: its request id and its trace id (as the services' lines do). */
export const requestLogFields = (req: IncomingMessage) => logFields((req as WithRequest)[REQUEST]);
/** The metadata of a backend call made for `req` outside a procedure (/healthz). */
export const callMetadataOf = (req: IncomingMessage) => {
  const request = (req as WithRequest)[REQUEST];
  return request ? callMetadata(request) : undefined;
};

/**
 * The per-request context of every procedure, for tRPC and REST alike. Cheap to make: the token is
 * only read here; protectedProcedure verifies it.
 */
export function createContext(
  deps: ContextDeps,
  req: IncomingMessage,
  res: ServerResponse,
  connectionParams?: Record<string, string | undefined> | null,
) {
  const request = (req as WithRequest)[REQUEST];
  const requestId = request?.requestId ?? '';
  const token = readToken(req, connectionParams);
  return {
    ...deps,
    req,
    res,
    requestId,
    /**
     * Call options for the backend services: the request id in metadata, and one deadline for all
     * the calls the request makes (a create and the name look-up after it), so that a request whose
     * backend is gone answers 503 within GRPC_DEADLINE_MS rather than once per call. Streams
     * (orders.onChange) take only the metadata.
     */
    rpc: { metadata: request ? callMetadata(request) : undefined, deadline: new Date(Date.now() + deps.deadlineMs) },
    /** From `Authorization: Bearer`, SSE connectionParams or the session cookie; verified by protectedProcedure. */
    token,
    /** False for a request made by a page of another origin (CSRF); see trpc.ts. */
    sameOrigin: isSameOrigin(req),
    setSessionCookie(value: string, maxAgeSeconds: number) {
      res.appendHeader('Set-Cookie', sessionCookie(value, maxAgeSeconds, deps.cookieSecure));
    },
  };
}

export type Context = ReturnType<typeof createContext>;

export function readToken(
  req: IncomingMessage,
  connectionParams: Record<string, string | undefined> | null | undefined,
): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    // A malformed Authorization header is a bad token (401), not an absent one.
    return /^Bearer +(\S+)\s*$/i.exec(header)?.[1] ?? 'malformed';
  }
  // EventSource cannot send headers: httpSubscriptionLink's connectionParams can carry the token
  // (anything there but a string is a bad token, not an absent one).
  const param = connectionParams?.token;
  if (param !== undefined && param !== null) return typeof param === 'string' ? param : 'malformed';
  return readCookie(req.headers.cookie, SESSION_COOKIE);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean) {
  const attributes = [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/**
 * A request without an Origin header (same-origin GET, curl, scripts) or with the request's own
 * origin. Behind Nginx the host the browser used arrives as X-Forwarded-Host, or as Host when the
 * proxy passes `$http_host`.
 */
function isSameOrigin(req: IncomingMessage) {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const forwarded = req.headers['x-forwarded-host'];
  const host = (typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined) || req.headers.host;
  try {
    return origin !== 'null' && host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** The address the login rate limit counts: Nginx's X-Real-IP, the last X-Forwarded-For hop, or the socket's. */
export function clientAddress(req: IncomingMessage): string {
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string' && real.trim()) return real.trim().slice(0, 100);
  const forwarded = req.headers['x-forwarded-for'];
  const last = typeof forwarded === 'string' ? forwarded.split(',').at(-1)?.trim() : undefined;
  return (last || req.socket.remoteAddress || '').slice(0, 100);
}
