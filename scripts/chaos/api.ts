/** Requests through Nginx, each with its own timeout; an answer never throws. */
import { REQUEST_TIMEOUT_MS } from './types.js';

export interface Answer {
  status: number | 'network' | 'timeout';
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  body: any;
  ms: number;
}

export class Api {
  token = '';
  constructor(readonly url: string) {}

  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const started = performance.now();
    // A timer of our own: an AbortSignal.timeout() signal that only fetch holds can be collected
    // before it fires (seen: a worker waited on a fetch for the whole 10-minute soak).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('request timed out', 'TimeoutError')), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed, ms: performance.now() - started };
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError';
      return { status: timeout ? 'timeout' : 'network', body: undefined, ms: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }
}
