import type { ServerResponse } from 'node:http';

/** A refusal of the REST adapter's own (before any procedure ran), answered as API.md's error body. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** More of the error body (an import's `rows`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const noRoute = (pathname: string) => new HttpProblem(404, 'NOT_FOUND', `no route ${pathname}`);

export function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}
