import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AnyTRPCProcedure, callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape, type TRPCError } from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import { type ContextDeps, createContext } from './context.js';
import { appRouter } from './routers/index.js';

/**
 * tRPC GET queries, answered without tRPC's Node adapter, in tRPC's own wire format.
 *
 * Why: tRPC v11's Node adapter turns every request into a Fetch `Request` (URL, Headers, an
 * AbortController) and writes a Fetch `Response` back through a web stream. For a cached read that
 * cost more than the read itself (docs/benchmarks.md: the same procedure answered twice as fast
 * through the REST routes).
 *
 * What: a GET of query procedures, one (`/trpc/customers.byId?input=…`) or a batch
 * (`/trpc/a,b?batch=1&input={"0":…,"1":…}`), asking for plain JSON (no `trpc-accept` header, which
 * asks for a streamed answer). Each call goes through tRPC's `callProcedure` with the same context
 * as the adapter's, so middleware, validation and errors are tRPC's; a failed call's error is shaped
 * by the router's error formatter and the status picked by tRPC's `getHTTPStatusCode`, as the
 * adapter does. Anything else (other methods, mutations, subscriptions, malformed paths or input)
 * is left to the adapter, before anything has run. bff/src/trpc-queries.test.ts compares the two.
 */
export function createQueryFastPath(options: {
  deps: ContextDeps;
  /** The headers the adapter's responseMeta adds, for a JSON answer with these errors. */
  headers(errors: TRPCError[]): Record<string, string>;
  /** The adapter's onError. */
  onError(error: TRPCError, path: string, req: IncomingMessage): void;
}) {
  const { deps } = options;
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  const config = appRouter._def._config;
  const isQuery = (path: string) => procedures[path]?._def.type === 'query';

  /** Resolves true when it answered; false when the adapter must (nothing has been written then). */
  return async function answerQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (req.method !== 'GET' || req.headers['trpc-accept'] !== undefined) return false;
    const batch = url.searchParams.get('batch');
    if (batch !== null && batch !== '1') return false;
    const paths = decodePaths(url.pathname);
    if (!paths?.every(isQuery) || (batch === null && paths.length !== 1)) return false;
    const inputs = readInputs(url.searchParams.get('input'), paths.length, batch === '1');
    if (!inputs) return false;

    const ctx = createContext(deps, req, res, null);
    const errors: TRPCError[] = [];
    const answers = await Promise.all(
      paths.map(async (path, batchIndex) => {
        const input = inputs[batchIndex];
        try {
          const data = await callTRPCProcedure({
            router: appRouter,
            path,
            getRawInput: async () => input,
            ctx,
            type: 'query',
            signal: undefined,
            batchIndex,
          });
          return { result: { data } };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          errors.push(error);
          options.onError(error, path, req);
          return { error: getTRPCErrorShape({ config, error, type: 'query', path, input, ctx }) };
        }
      }),
    );
    if (res.headersSent || res.destroyed) return true;
    const json = batch === '1' ? answers : answers[0]!;
    const body = JSON.stringify(json);
    res.writeHead(getHTTPStatusCode(json, errors), {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Vary: 'trpc-accept, accept',
      ...options.headers(errors),
    });
    res.end(body);
    return true;
  };
}

/** `/trpc/customers.byId,orders.list` → the procedure paths, or undefined when malformed. */
function decodePaths(pathname: string): string[] | undefined {
  try {
    const paths = decodeURIComponent(pathname.slice('/trpc/'.length)).split(',');
    return paths.every((path) => /^\w+\.\w+$/.test(path)) ? paths : undefined;
  } catch {
    return undefined;
  }
}

/** The calls' inputs as the adapter reads them, or undefined when the adapter should say what is wrong. */
function readInputs(raw: string | null, count: number, batch: boolean): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!batch) return [parsed];
  if (parsed === undefined) return new Array(count).fill(undefined);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return Array.from({ length: count }, (_, i) => (parsed as Record<string, unknown>)[String(i)]);
}
