import { type Client as GrpcClient, Metadata as GrpcMetadata, type ServiceError } from '@grpc/grpc-js';
import { AbortError } from 'abort-controller-x';
import { ClientError, type Metadata } from 'nice-grpc';
import { RichClientError } from 'nice-grpc-error-details';
import { decodeStatusDetails } from './rpc-status.js';

/*
 * Unary calls straight on grpc-js, for the clients of grpc-client.ts. nice-grpc's client runs
 * every call through an async generator per middleware (deadline, context, error details), an
 * AbortController and a timer of its own, and a copy of the metadata; on the BFF's hot path that
 * was ~60 µs of CPU per call (docs/benchmarks.md). Here one call is one grpc-js request: its
 * deadline is grpc-js's own (one timer inside the call), the metadata is converted once, and a
 * failure becomes the very errors nice-grpc's client throws (ClientError, RichClientError with the
 * google.rpc details, AbortError), so callers cannot tell the two apart. Streaming methods stay
 * nice-grpc's.
 */

/** The options a unary call takes (nice-grpc's CallOptions and DeadlineOptions, as the callers use them). */
export interface UnaryOptions {
  metadata?: Metadata;
  signal?: AbortSignal;
  /** A time, or milliseconds from now. */
  deadline?: Date | number;
}

/** A method of a ts-proto service definition (the shape nice-grpc reads). */
interface TsProtoMethod {
  name: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: { encode(message: unknown): { finish(): Uint8Array }; fromPartial?(value: unknown): unknown };
  responseType: { decode(bytes: Uint8Array): unknown };
}

export type UnaryCall = (request: unknown, options?: UnaryOptions) => Promise<unknown>;

/** The unary methods of a ts-proto definition, by their keys, as lean calls over `grpcClient`'s channel. */
export function unaryCalls(
  definition: { fullName: string; methods: Record<string, TsProtoMethod> },
  grpcClient: GrpcClient,
  defaultDeadlineMs: number,
): Record<string, UnaryCall> {
  const calls: Record<string, UnaryCall> = {};
  for (const [key, method] of Object.entries(definition.methods)) {
    if (method.requestStream || method.responseStream) continue;
    const path = `/${definition.fullName}/${method.name}`;
    const { requestType, responseType } = method;
    const serialize = requestType.fromPartial
      ? (value: unknown) => Buffer.from(requestType.encode(requestType.fromPartial!(value)).finish())
      : (value: unknown) => Buffer.from(requestType.encode(value).finish());
    const deserialize = (bytes: Buffer) => responseType.decode(bytes);
    calls[key] = (request, options = {}) =>
      new Promise((resolve, reject) => {
        const { signal } = options;
        if (signal?.aborted) return reject(new AbortError());
        const deadline =
          options.deadline === undefined
            ? Date.now() + defaultDeadlineMs
            : typeof options.deadline === 'number'
              ? Date.now() + options.deadline
              : options.deadline;
        const onAbort = () => call.cancel();
        const call = grpcClient.makeUnaryRequest(
          path,
          serialize,
          deserialize,
          request,
          outgoing(options.metadata),
          { deadline },
          (err, response) => {
            signal?.removeEventListener('abort', onAbort);
            if (!err) return resolve(response);
            reject(signal?.aborted ? new AbortError() : clientError(err, path));
          },
        );
        signal?.addEventListener('abort', onAbort, { once: true });
      });
  }
  return calls;
}

/** The call's metadata for grpc-js. */
function outgoing(metadata: Metadata | undefined): GrpcMetadata {
  const out = new GrpcMetadata();
  if (metadata)
    for (const [key, values] of metadata) for (const value of values) out.add(key, typeof value === 'string' ? value : Buffer.from(value));
  return out;
}

/** grpc-js's failure as nice-grpc's client reports it: a RichClientError when the status carries google.rpc details. */
function clientError(err: ServiceError, path: string): ClientError {
  const [details] = err.metadata?.get('grpc-status-details-bin') ?? [];
  if (details instanceof Buffer) {
    try {
      return new RichClientError(path, err.code, err.details, decodeStatusDetails(details));
    } catch {
      // Details that do not decode: the status alone (the callback must still settle the call).
    }
  }
  return new ClientError(path, err.code, err.details);
}
