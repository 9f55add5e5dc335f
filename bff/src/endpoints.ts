/**
 * The replica's HTTP endpoints, in match order: main.ts answers a request with the endpoint this
 * table names, and the same entry gives the `route` label of its HTTP metrics (metrics.ts), a small
 * fixed set, never the raw path. Within `rest`, rest/routes.ts picks the procedure.
 */

export type Endpoint = 'trpc_sse' | 'trpc' | 'openapi' | 'docs' | 'rest' | 'healthz' | 'metrics' | 'other';

interface Entry {
  endpoint: Endpoint;
  /** The `route` label of pdash_bff_http_request_duration_seconds. */
  label: string;
  matches(pathname: string, accept: string | undefined): boolean;
}

const ENDPOINTS: readonly Entry[] = [
  { endpoint: 'trpc_sse', label: 'trpc_sse', matches: (path, accept) => path.startsWith('/trpc/') && accept === 'text/event-stream' },
  { endpoint: 'trpc', label: 'trpc', matches: (path) => path.startsWith('/trpc/') },
  { endpoint: 'openapi', label: 'docs', matches: (path) => path === '/api/openapi.json' },
  { endpoint: 'docs', label: 'docs', matches: (path) => path === '/api/docs' || path.startsWith('/api/docs/') },
  { endpoint: 'rest', label: 'rest', matches: (path) => path.startsWith('/api/') },
  { endpoint: 'healthz', label: 'healthz', matches: (path) => path === '/healthz' },
  { endpoint: 'metrics', label: 'metrics', matches: (path) => path === '/metrics' },
];
const OTHER: Entry = { endpoint: 'other', label: 'other', matches: () => true };

/** The endpoint that answers a request path (the Accept header tells SSE from plain tRPC). */
export function endpointOf(pathname: string, accept: string | undefined): Pick<Entry, 'endpoint' | 'label'> {
  return ENDPOINTS.find((entry) => entry.matches(pathname, accept)) ?? OTHER;
}
