import {
  Any,
  BadRequest,
  DebugInfo,
  type ErrorDetails,
  ErrorInfo,
  Help,
  LocalizedMessage,
  PreconditionFailure,
  QuotaFailure,
  RequestInfo,
  ResourceInfo,
  RetryInfo,
} from 'nice-grpc-error-details';
import { Status as RpcStatus } from 'nice-grpc-error-details/lib/proto/google/rpc/status.js';

/*
 * The google.rpc.Status a failure's details travel in (the `grpc-status-details-bin` trailer), as
 * nice-grpc-error-details writes and reads it: each detail packed in an Any named by its type. The
 * server's call middleware (server.ts) and the lean unary client (unary.ts) do here in one step what
 * that package's middlewares did as one more generator per call.
 */

/** The detail messages known by type (nice-grpc-error-details' own list). */
const DETAIL_TYPES = [
  RetryInfo,
  DebugInfo,
  QuotaFailure,
  ErrorInfo,
  PreconditionFailure,
  BadRequest,
  RequestInfo,
  ResourceInfo,
  Help,
  LocalizedMessage,
];

export function encodeStatus(code: number, message: string, details: ErrorDetails[]): Uint8Array {
  const packed = details.map((detail) => {
    if (detail.$type === Any.$type) return detail as Any;
    const type = DETAIL_TYPES.find((t) => t.$type === detail.$type);
    if (!type) throw new Error(`unknown error detail type ${detail.$type}`);
    return Any.fromPartial({
      typeUrl: `type.googleapis.com/${detail.$type}`,
      value: (type as { encode(m: unknown): { finish(): Uint8Array } }).encode(detail).finish(),
    });
  });
  return RpcStatus.encode(RpcStatus.fromPartial({ code, message, details: packed })).finish();
}

export function decodeStatusDetails(bytes: Uint8Array): ErrorDetails[] {
  return RpcStatus.decode(bytes).details.map(
    (any) => (DETAIL_TYPES.find((type) => any.typeUrl.endsWith(`/${type.$type}`))?.decode(any.value) as ErrorDetails | undefined) ?? any,
  );
}
