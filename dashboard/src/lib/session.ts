/*
 * The session lives in the httpOnly `pdash_session` cookie that auth.login sets: the page never sees
 * the token. What the page does know is where to send someone whose session is gone (any call
 * answered 401) and where to bring them back after they log in.
 */

let onUnauthorized: (() => void) | undefined;

/** Set once by the app shell, which can navigate; called by the query cache on any 401. */
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler;
}

export function handleUnauthorized() {
  onUnauthorized?.();
}

export const loginPath = (next: string) => (next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login');

/**
 * A `next` parameter that is safe to navigate to: a path of this site only (not `//evil.example`,
 * not `/\evil.example`, not the login pages themselves). Anything else means the home page.
 */
export function safeNext(raw: string | string[] | undefined): string {
  const next = Array.isArray(raw) ? raw[0] : raw;
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (/^\/(login|signup)(\?|$)/.test(next)) return '/';
  return next;
}
